"""The IPP printer's description (Get-Printer-Attributes): what the agent reported of
the real printer (its capabilities and state) in IPP Everywhere's words (RFC 8011,
PWG 5100.14), as far as they apply to a PDF printer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from printcloud.protocol.ipp import (
    UNKNOWN,
    Attribute,
    Operation,
    PrinterState,
    Range,
    Resolution,
    ValueTag,
)
from printcloud.protocol.ipp import attr as a
from printcloud.protocol.options import MAX_COPIES
from printcloud.protocol.presence import ComputerState
from printcloud.protocol.presence import PrinterState as Presence
from printcloud.server.ipp import media
from printcloud.server.ipp.repository import PrinterView

OPERATIONS = (
    Operation.PRINT_JOB,
    Operation.VALIDATE_JOB,
    Operation.CREATE_JOB,
    Operation.SEND_DOCUMENT,
    Operation.CANCEL_JOB,
    Operation.GET_JOB_ATTRIBUTES,
    Operation.GET_JOBS,
    Operation.GET_PRINTER_ATTRIBUTES,
    Operation.CLOSE_JOB,
    Operation.IDENTIFY_PRINTER,
)
PDF = "application/pdf"
# "Detect it": we take a PDF under any name, and refuse what is not one.
OCTET_STREAM = "application/octet-stream"
DOCUMENT_FORMATS = (PDF, OCTET_STREAM)
PRINT_SCALING = ("auto", "fit", "none")
# Members of a job's media-col we read; the rest of what we announce is the printer's.
MEDIA_COL_MEMBERS = ("media-size", "media-source")
JOB_CREATION_ATTRIBUTES = (
    "copies",
    "finishings",
    "media",
    "media-col",
    "orientation-requested",
    "output-bin",
    "page-ranges",
    "print-color-mode",
    "print-content-optimize",
    "print-quality",
    "print-rendering-intent",
    "print-scaling",
    "printer-resolution",
    "sides",
)
JOB_TEMPLATE = frozenset(
    {
        "copies-default",
        "copies-supported",
        "finishings-default",
        "finishings-supported",
        "media-default",
        "media-supported",
        "media-ready",
        "media-col-default",
        "media-col-supported",
        "media-col-ready",
        "media-col-database",
        "media-source-supported",
        "media-size-supported",
        "media-type-supported",
        "media-bottom-margin-supported",
        "media-left-margin-supported",
        "media-right-margin-supported",
        "media-top-margin-supported",
        "orientation-requested-default",
        "orientation-requested-supported",
        "page-ranges-supported",
        "print-color-mode-default",
        "print-color-mode-supported",
        "print-quality-default",
        "print-quality-supported",
        "print-scaling-default",
        "print-scaling-supported",
        "printer-resolution-default",
        "printer-resolution-supported",
        "sides-default",
        "sides-supported",
        "print-content-optimize-default",
        "print-content-optimize-supported",
        "print-rendering-intent-default",
        "print-rendering-intent-supported",
        "output-bin-default",
        "output-bin-supported",
    }
)
RESOLUTION = Resolution(600, 600)
PAGES_PER_MINUTE = 1
PORTRAIT = 3
NORMAL_QUALITY = 4
FINISHINGS_NONE = 3
_MAX_TEXT = 127  # what IPP's text/name attributes of a printer may hold here


@dataclass(frozen=True)
class Where:
    """How the client reached the printer: its URI is the one it used."""

    uri: str
    secure: bool
    more_info: str  # the dashboard, on the same host


def uuid_of(printer_id: str) -> str:
    """Stable for the printer's life, and tells nothing of its id."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "printcloud:printer:" + printer_id))


def sides_supported(capabilities: dict[str, object]) -> tuple[str, ...]:
    if capabilities.get("duplex") is True:
        return ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
    return ("one-sided",)


def color_modes(capabilities: dict[str, object]) -> tuple[str, ...]:
    """The first is the default. A color printer prints in color unless told otherwise:
    CUPS makes a queue whose default is "auto" print in gray."""
    if capabilities.get("color") is True:
        return ("color", "auto", "monochrome")
    return ("monochrome",)


def state(view: PrinterView) -> tuple[PrinterState, list[str], str]:
    """printer-state, -state-reasons and -state-message: an unreachable printer is
    stopped, and its jobs wait (we still accept them)."""
    if view.computer.state != ComputerState.ONLINE:
        return (
            PrinterState.STOPPED,
            ["offline-report"],
            f"The computer {view.computer.name} is offline: jobs wait until it reconnects",
        )
    if view.printer.state != Presence.ONLINE:
        return (
            PrinterState.STOPPED,
            ["offline-report"],
            "The printer is offline: jobs wait until it is back",
        )
    # What a CUPS queue says of itself (the agent's CUPS backend reports it).
    if view.printer.capabilities.get("state") == "stopped":
        return PrinterState.STOPPED, ["paused"], "The printer's queue is stopped"
    if view.printer.capabilities.get("accepting") is False:
        return PrinterState.STOPPED, ["paused"], "The printer's queue is not accepting jobs"
    if view.queued:
        return PrinterState.PROCESSING, ["none"], f"{view.queued} job(s) waiting or printing"
    return PrinterState.IDLE, ["none"], "Ready"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; ours are all UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(value: str) -> str:
    return value[:_MAX_TEXT]


def attributes(view: PrinterView, where: Where, now: datetime) -> list[Attribute]:
    printer, computer = view.printer, view.computer
    caps = printer.capabilities if isinstance(printer.capabilities, dict) else {}
    papers = media.papers(caps)
    default = media.default_paper(papers)
    trays = media.trays(caps)
    printer_state, reasons, message = state(view)
    sides = sides_supported(caps)
    modes = color_modes(caps)
    changed = _aware(printer.updated_at)
    model = "PrintCloud printer"
    name = _text(printer.name)
    uptime = max(int(now.timestamp()), 1)
    listed: list[Attribute] = [
        a("printer-uri-supported", ValueTag.URI, where.uri),
        a("uri-security-supported", ValueTag.KEYWORD, "tls" if where.secure else "none"),
        a("uri-authentication-supported", ValueTag.KEYWORD, "basic"),
        a("printer-name", ValueTag.NAME, name),
        a("printer-info", ValueTag.TEXT, _text(f"{printer.name} on {computer.name}")),
        a("printer-location", ValueTag.TEXT, _text(computer.name)),
        a("printer-make-and-model", ValueTag.TEXT, model),
        a("printer-device-id", ValueTag.TEXT, f"MFG:PrintCloud;MDL:{model};CMD:PDF;"),
        a("printer-uuid", ValueTag.URI, uuid_of(printer.id)),
        a("printer-state", ValueTag.ENUM, printer_state),
        a("printer-state-reasons", ValueTag.KEYWORD, *reasons),
        a("printer-state-message", ValueTag.TEXT, _text(message)),
        # Jobs for a printer that is offline are kept until it is back: still accepted.
        a("printer-is-accepting-jobs", ValueTag.BOOLEAN, True),
        a("queued-job-count", ValueTag.INTEGER, view.queued),
        a("operations-supported", ValueTag.ENUM, *[int(o) for o in OPERATIONS]),
        a("charset-configured", ValueTag.CHARSET, "utf-8"),
        a("charset-supported", ValueTag.CHARSET, "utf-8"),
        a("natural-language-configured", ValueTag.NATURAL_LANGUAGE, "en"),
        a("generated-natural-language-supported", ValueTag.NATURAL_LANGUAGE, "en"),
        a("ipp-versions-supported", ValueTag.KEYWORD, "1.1", "2.0"),
        a("ipp-features-supported", ValueTag.KEYWORD, "ipp-everywhere"),
        a("document-format-default", ValueTag.MIME_MEDIA_TYPE, PDF),
        a("document-format-supported", ValueTag.MIME_MEDIA_TYPE, *DOCUMENT_FORMATS),
        a("compression-supported", ValueTag.KEYWORD, "none"),
        a("pdl-override-supported", ValueTag.KEYWORD, "attempted"),
        a("multiple-document-jobs-supported", ValueTag.BOOLEAN, False),
        a("multiple-operation-time-out", ValueTag.INTEGER, 300),
        a("multiple-operation-time-out-action", ValueTag.KEYWORD, "abort-job"),
        a("job-creation-attributes-supported", ValueTag.KEYWORD, *JOB_CREATION_ATTRIBUTES),
        a("job-ids-supported", ValueTag.BOOLEAN, True),
        a("preferred-attributes-supported", ValueTag.BOOLEAN, False),
        a("printer-get-attributes-supported", ValueTag.KEYWORD, "document-format"),
        a("printer-more-info", ValueTag.URI, where.more_info),
        # Required by IPP/2.0; a printer behind an agent does not say its speed.
        a("pages-per-minute", ValueTag.INTEGER, PAGES_PER_MINUTE),
        *(
            [a("pages-per-minute-color", ValueTag.INTEGER, PAGES_PER_MINUTE)]
            if caps.get("color") is True
            else []
        ),
        a("which-jobs-supported", ValueTag.KEYWORD, "completed", "not-completed"),
        a("identify-actions-default", ValueTag.KEYWORD, "display"),
        a("identify-actions-supported", ValueTag.KEYWORD, "display"),
        a("color-supported", ValueTag.BOOLEAN, caps.get("color") is True),
        a("printer-up-time", ValueTag.INTEGER, uptime),
        a("printer-current-time", ValueTag.DATETIME, now),
        a("printer-config-change-time", ValueTag.INTEGER, max(int(changed.timestamp()), 1)),
        a("printer-config-change-date-time", ValueTag.DATETIME, changed),
        a("printer-state-change-time", ValueTag.INTEGER, max(int(changed.timestamp()), 1)),
        a("printer-state-change-date-time", ValueTag.DATETIME, changed),
        a("printer-organization", ValueTag.TEXT, ""),
        a("printer-organizational-unit", ValueTag.TEXT, ""),
        a("printer-geo-location", ValueTag.UNKNOWN, UNKNOWN),
        a("job-k-octets-supported", ValueTag.RANGE_OF_INTEGER, Range(0, 2**31 - 1)),
        # job-template
        a("copies-default", ValueTag.INTEGER, 1),
        a("copies-supported", ValueTag.RANGE_OF_INTEGER, Range(1, MAX_COPIES)),
        a("finishings-default", ValueTag.ENUM, FINISHINGS_NONE),
        a("finishings-supported", ValueTag.ENUM, FINISHINGS_NONE),
        a("media-default", ValueTag.KEYWORD, default.keyword),
        a("media-ready", ValueTag.KEYWORD, default.keyword),
        a("media-supported", ValueTag.KEYWORD, *[p.keyword for p in papers]),
        a("media-col-default", ValueTag.BEG_COLLECTION, media.media_col(default)),
        a("media-col-ready", ValueTag.BEG_COLLECTION, media.media_col(default)),
        a(
            "media-col-database",
            ValueTag.BEG_COLLECTION,
            *[media.media_col(p) for p in papers],
        ),
        a(
            "media-col-supported",
            ValueTag.KEYWORD,
            "media-size",
            "media-size-name",
            "media-bottom-margin",
            "media-left-margin",
            "media-right-margin",
            "media-top-margin",
            "media-type",
            "media-source",
        ),
        a(
            "media-size-supported",
            ValueTag.BEG_COLLECTION,
            *[
                [
                    a("x-dimension", ValueTag.INTEGER, p.width),
                    a("y-dimension", ValueTag.INTEGER, p.height),
                ]
                for p in papers
            ],
        ),
        a("media-type-supported", ValueTag.KEYWORD, "stationery"),
        a("media-bottom-margin-supported", ValueTag.INTEGER, media.MARGIN),
        a("media-left-margin-supported", ValueTag.INTEGER, media.MARGIN),
        a("media-right-margin-supported", ValueTag.INTEGER, media.MARGIN),
        a("media-top-margin-supported", ValueTag.INTEGER, media.MARGIN),
        a("orientation-requested-default", ValueTag.ENUM, PORTRAIT),
        a("orientation-requested-supported", ValueTag.ENUM, PORTRAIT),
        a("output-bin-default", ValueTag.KEYWORD, "face-down"),
        a("output-bin-supported", ValueTag.KEYWORD, "face-down"),
        a("page-ranges-supported", ValueTag.BOOLEAN, True),
        a("print-color-mode-default", ValueTag.KEYWORD, modes[0]),
        a("print-color-mode-supported", ValueTag.KEYWORD, *modes),
        a("print-content-optimize-default", ValueTag.KEYWORD, "auto"),
        a("print-content-optimize-supported", ValueTag.KEYWORD, "auto"),
        a("print-rendering-intent-default", ValueTag.KEYWORD, "auto"),
        a("print-rendering-intent-supported", ValueTag.KEYWORD, "auto"),
        a("print-quality-default", ValueTag.ENUM, NORMAL_QUALITY),
        a("print-quality-supported", ValueTag.ENUM, NORMAL_QUALITY),
        a("print-scaling-default", ValueTag.KEYWORD, "auto"),
        a("print-scaling-supported", ValueTag.KEYWORD, *PRINT_SCALING),
        a("printer-resolution-default", ValueTag.RESOLUTION, RESOLUTION),
        a("printer-resolution-supported", ValueTag.RESOLUTION, RESOLUTION),
        a("sides-default", ValueTag.KEYWORD, "one-sided"),
        a("sides-supported", ValueTag.KEYWORD, *sides),
    ]
    listed.append(a("media-source-supported", ValueTag.KEYWORD, "auto", *trays))
    return listed


def select(listed: Iterable[Attribute], requested: set[str] | None) -> list[Attribute]:
    """requested-attributes: names, or the groups ``all``, ``printer-description`` and
    ``job-template``; none asked means ``all``."""
    if requested is None or "all" in requested:
        return list(listed)
    description = "printer-description" in requested
    template = "job-template" in requested
    return [
        attribute
        for attribute in listed
        if attribute.name in requested
        or (template and attribute.name in JOB_TEMPLATE)
        or (description and attribute.name not in JOB_TEMPLATE)
    ]
