"""A job's IPP attributes as our print options (protocol/options.py): what we cannot
honour is refused and named, never substituted, since printing on another paper or
one-sided when two sides were asked is worse than an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from printcloud.protocol.ipp import Group, Range, Resolution, Value
from printcloud.protocol.options import MAX_COPIES, PrintOptions
from printcloud.server.ipp import media
from printcloud.server.ipp.printer import (
    FINISHINGS_NONE,
    NORMAL_QUALITY,
    PORTRAIT,
    PRINT_SCALING,
    RESOLUTION,
    color_modes,
    sides_supported,
)

_DUPLEX = {"two-sided-long-edge": "long-edge", "two-sided-short-edge": "short-edge"}
_MONOCHROME = {"monochrome", "auto-monochrome", "process-monochrome"}
# Job attributes that change nothing here when given as we announce them.
_ACCEPTED_AS_IS: dict[str, object] = {
    "finishings": FINISHINGS_NONE,
    "orientation-requested": PORTRAIT,
    "print-quality": NORMAL_QUALITY,
    "printer-resolution": RESOLUTION,
    "output-bin": "face-down",
    "print-content-optimize": "auto",
    "print-rendering-intent": "auto",
    "job-priority": None,  # any 1-100: there is one queue
    "job-hold-until": "no-hold",
    "multiple-document-handling": None,
    "job-sheets": "none",
    "number-up": 1,
}


@dataclass
class Reading:
    """The options read, and the attributes refused (name -> the values as sent), or
    ignored because we do not know them."""

    options: dict[str, object] = field(default_factory=dict)
    refused: dict[str, list[Value]] = field(default_factory=dict)
    unknown: dict[str, list[Value]] = field(default_factory=dict)

    def refuse(self, name: str, values: list[Value]) -> None:
        self.refused[name] = values


def read(job: Group, capabilities: dict[str, object]) -> Reading:
    reading = Reading()
    papers = media.papers(capabilities)
    for name, values in job.items():
        handler: _Handler | None = _HANDLERS.get(name)
        if handler is not None:
            if len(values) != 1 and name != "page-ranges":
                reading.refuse(name, values)
            else:
                handler(reading, values, capabilities, papers)
        elif name in _ACCEPTED_AS_IS:
            expected = _ACCEPTED_AS_IS[name]
            if not _as_is(name, values, expected):
                reading.refuse(name, values)
        else:
            reading.unknown[name] = values
    if "paper" in reading.options and "media" in job and "media-col" in job:
        reading.refuse("media-col", job["media-col"])  # one or the other, says RFC 8011
    return reading


def to_options(reading: Reading) -> PrintOptions:
    return PrintOptions.model_validate(reading.options)


def _as_is(name: str, values: list[Value], expected: object) -> bool:
    if len(values) != 1:
        return False
    value = values[0]
    if name == "job-priority":
        return _is_int(value) and 1 <= value <= 100  # type: ignore[operator]
    if name == "multiple-document-handling":
        return isinstance(value, str)
    if isinstance(expected, Resolution):
        return value == expected
    if isinstance(expected, int):
        return _is_int(value) and value == expected
    return value == expected


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _copies(reading: Reading, values: list[Value], *_: object) -> None:
    value = values[0]
    if _is_int(value) and 1 <= value <= MAX_COPIES:  # type: ignore[operator]
        if value != 1:
            reading.options["copies"] = value
    else:
        reading.refuse("copies", values)


def _sides(
    reading: Reading, values: list[Value], capabilities: dict[str, object], _: object
) -> None:
    value = values[0]
    if not isinstance(value, str) or value not in sides_supported(capabilities):
        reading.refuse("sides", values)
        return
    reading.options["duplex"] = _DUPLEX.get(value, "one-sided")


def _color_mode(
    reading: Reading, values: list[Value], capabilities: dict[str, object], _: object
) -> None:
    value = values[0]
    modes = color_modes(capabilities)
    if not isinstance(value, str) or not (value in modes or value in _MONOCHROME):
        reading.refuse("print-color-mode", values)
        return
    if value == "color":
        reading.options["color"] = True
    elif value in _MONOCHROME:
        reading.options["color"] = False


def _media(
    reading: Reading,
    values: list[Value],
    _: object,
    papers: list[media.Paper],
) -> None:
    value = values[0]
    keywords = {p.keyword for p in papers}
    if not isinstance(value, str) or value not in keywords:
        reading.refuse("media", values)
        return
    reading.options["paper"] = value


def _media_col(
    reading: Reading,
    values: list[Value],
    capabilities: dict[str, object],
    papers: list[media.Paper],
) -> None:
    col = values[0]
    if not isinstance(col, dict):
        reading.refuse("media-col", values)
        return
    paper = _paper_of(col, papers)
    source = _single(col.get("media-source"))
    trays = media.trays(capabilities)
    if paper is None and ("media-size" in col or "media-size-name" in col):
        reading.refuse("media-col", values)
        return
    if source is not None and source != "auto" and source not in trays:
        reading.refuse("media-col", values)
        return
    if paper is not None:
        reading.options["paper"] = paper.keyword
    if source is not None and source != "auto":
        reading.options["media"] = source


def _paper_of(col: dict[str, list[Value]], papers: list[media.Paper]) -> media.Paper | None:
    name = _single(col.get("media-size-name"))
    if isinstance(name, str):
        found = [p for p in papers if p.keyword == name]
        return found[0] if found else None
    size = _single(col.get("media-size"))
    if not isinstance(size, dict):
        return None
    width, height = _single(size.get("x-dimension")), _single(size.get("y-dimension"))
    if not (_is_int(width) and _is_int(height)):
        return None
    return media.paper_of_size(papers, width, height)  # type: ignore[arg-type]


def _single(values: list[Value] | None) -> Value | None:
    return values[0] if values and len(values) == 1 else None


def _page_ranges(reading: Reading, values: list[Value], *_: object) -> None:
    if not all(isinstance(v, Range) for v in values):
        reading.refuse("page-ranges", values)
        return
    text = ",".join(f"{v.lower}-{v.upper}" for v in values if isinstance(v, Range))
    try:
        reading.options["pages"] = PrintOptions(pages=text).pages
    except ValidationError:
        reading.refuse("page-ranges", values)


def _print_scaling(reading: Reading, values: list[Value], *_: object) -> None:
    value = values[0]
    if value not in PRINT_SCALING:
        reading.refuse("print-scaling", values)
    elif value == "fit":
        reading.options["fit_to_page"] = True
    elif value == "none":
        reading.options["fit_to_page"] = False


_Handler = Callable[[Reading, list[Value], dict[str, object], list[media.Paper]], None]
_HANDLERS: dict[str, _Handler] = {
    "copies": _copies,
    "sides": _sides,
    "print-color-mode": _color_mode,
    "media": _media,
    "media-col": _media_col,
    "page-ranges": _page_ranges,
    "print-scaling": _print_scaling,
}
