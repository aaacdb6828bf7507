"""A job in IPP's words (Get-Job-Attributes, Get-Jobs, and the answer to Print-Job):
our job's state as job-state, its last history message as job-state-message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from printcloud.protocol.ipp import NO_VALUE, Attribute, Range, ValueTag
from printcloud.protocol.ipp import JobState as IppJobState
from printcloud.protocol.ipp import attr as a
from printcloud.protocol.job_states import JobState
from printcloud.protocol.media import media_keyword
from printcloud.protocol.options import page_ranges
from printcloud.server.db.models import PrintJob
from printcloud.server.ipp.book import Cancelled, Created

# Ours -> IPP's state and the reason it gives.
STATES: dict[JobState, tuple[IppJobState, str]] = {
    JobState.PENDING: (IppJobState.PENDING, "none"),
    JobState.SENT: (IppJobState.PROCESSING, "job-transforming"),
    JobState.PRINTING: (IppJobState.PROCESSING, "job-printing"),
    JobState.COMPLETED: (IppJobState.COMPLETED, "job-completed-successfully"),
    JobState.ERROR: (IppJobState.ABORTED, "aborted-by-system"),
    JobState.EXPIRED: (IppJobState.ABORTED, "aborted-by-system"),
}
FINISHED = frozenset({IppJobState.CANCELED, IppJobState.ABORTED, IppJobState.COMPLETED})
DEFAULT_ATTRIBUTES = frozenset({"job-id", "job-uri"})  # what Get-Jobs lists by default
USER = "printcloud"  # who made a job: our jobs know an account, not a person


@dataclass(frozen=True)
class JobFacts:
    number: int
    title: str
    state: IppJobState
    reason: str
    message: str
    created_at: datetime
    completed_at: datetime | None
    options: dict[str, Any]
    copies: int = 1


def of_job(job: PrintJob, number: int, message: str) -> JobFacts:
    state, reason = STATES[JobState(job.state)]
    return JobFacts(
        number=number,
        title=job.title,
        state=state,
        reason=reason,
        message=message,
        created_at=_aware(job.created_at),
        completed_at=_aware(job.updated_at) if state in FINISHED else None,
        options=dict(job.options or {}),
        copies=job.qty,
    )


def of_created(created: Created) -> JobFacts:
    return JobFacts(
        number=created.number,
        title=created.title,
        state=IppJobState.PENDING_HELD,
        reason="job-incoming",
        message="Waiting for the document (Send-Document)",
        created_at=created.created_at,
        completed_at=None,
        options=created.options,
    )


def of_cancelled(cancelled: Cancelled) -> JobFacts:
    return JobFacts(
        number=cancelled.number,
        title=cancelled.title,
        state=IppJobState.CANCELED,
        reason="job-canceled-by-user",
        message="Cancelled",
        created_at=cancelled.created_at,
        completed_at=cancelled.cancelled_at,
        options={},
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds(moment: datetime) -> int:
    return max(int(moment.timestamp()), 1)


def attributes(facts: JobFacts, printer_uri: str, now: datetime) -> list[Attribute]:
    options = facts.options
    listed = [
        a("job-id", ValueTag.INTEGER, facts.number),
        a("job-uri", ValueTag.URI, f"{printer_uri}/jobs/{facts.number}"),
        a("job-printer-uri", ValueTag.URI, printer_uri),
        a("job-name", ValueTag.NAME, facts.title[:255] or "Untitled"),
        a("job-originating-user-name", ValueTag.NAME, USER),
        a("job-state", ValueTag.ENUM, facts.state),
        a("job-state-reasons", ValueTag.KEYWORD, facts.reason),
        a("job-state-message", ValueTag.TEXT, (facts.message or facts.reason)[:1023]),
        a("job-printer-up-time", ValueTag.INTEGER, _seconds(now)),
        a("time-at-creation", ValueTag.INTEGER, _seconds(facts.created_at)),
        a("date-time-at-creation", ValueTag.DATETIME, facts.created_at),
        a(
            "number-of-documents",
            ValueTag.INTEGER,
            0 if facts.state == IppJobState.PENDING_HELD else 1,
        ),
        a("copies", ValueTag.INTEGER, int(options.get("copies") or 1) * max(facts.copies, 1)),
    ]
    if facts.state in {IppJobState.PROCESSING, *FINISHED}:
        listed.append(a("time-at-processing", ValueTag.INTEGER, _seconds(facts.created_at)))
    else:
        listed.append(a("time-at-processing", ValueTag.NO_VALUE, NO_VALUE))
    if facts.completed_at is not None:
        listed += [
            a("time-at-completed", ValueTag.INTEGER, _seconds(facts.completed_at)),
            a("date-time-at-completed", ValueTag.DATETIME, facts.completed_at),
        ]
    else:
        listed += [
            a("time-at-completed", ValueTag.NO_VALUE, NO_VALUE),
            a("date-time-at-completed", ValueTag.NO_VALUE, NO_VALUE),
        ]
    listed += _template(options)
    return listed


def _template(options: dict[str, Any]) -> list[Attribute]:
    """The options the job was made with, as the job template attributes they came as."""
    listed = []
    duplex = options.get("duplex")
    if isinstance(duplex, str):
        sides = "one-sided" if duplex == "one-sided" else f"two-sided-{duplex}"
        listed.append(a("sides", ValueTag.KEYWORD, sides))
    color = options.get("color")
    if isinstance(color, bool):
        listed.append(a("print-color-mode", ValueTag.KEYWORD, "color" if color else "monochrome"))
    paper = options.get("paper")
    if isinstance(paper, str) and paper:
        listed.append(a("media", ValueTag.KEYWORD, media_keyword(paper)))
    pages = options.get("pages")
    if isinstance(pages, str) and pages:
        try:
            ranges = [Range(lower, upper) for lower, upper in page_ranges(pages)]
        except ValueError:
            ranges = []
        if ranges:
            listed.append(a("page-ranges", ValueTag.RANGE_OF_INTEGER, *ranges))
    fit = options.get("fit_to_page")
    if isinstance(fit, bool):
        listed.append(a("print-scaling", ValueTag.KEYWORD, "fit" if fit else "none"))
    return listed


def select(listed: Iterable[Attribute], requested: set[str] | None) -> list[Attribute]:
    """requested-attributes of a job: names, ``all``, ``job-description``, ``job-template``."""
    if requested is None or "all" in requested:
        return list(listed)
    template = {"sides", "print-color-mode", "media", "page-ranges", "print-scaling", "copies"}
    return [
        attribute
        for attribute in listed
        if attribute.name in requested
        or ("job-template" in requested and attribute.name in template)
        or ("job-description" in requested and attribute.name not in template)
    ]
