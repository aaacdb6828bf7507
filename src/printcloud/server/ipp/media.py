"""A printer's papers as IPP offers them: PWG keywords with their sizes, from what the
agent reported (CUPS reports PWG keywords already; other backends report names such as
"A4"). A paper we cannot size is left out: IPP Everywhere clients choose by size."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from printcloud.protocol.ipp import Attribute, ValueTag, attr
from printcloud.protocol.media import media_keyword, media_size

# When an agent reported no papers: the two sizes every office printer takes.
FALLBACK = ("iso_a4_210x297mm", "na_letter_8.5x11in")
PREFERRED_DEFAULT = ("iso_a4_210x297mm", "na_letter_8.5x11in")
# A4 and Letter printed by a client that rounds to whole millimetres still match.
SIZE_TOLERANCE = 100  # hundredths of a millimetre
# The printable area's edges we announce: a quarter inch, as most office printers.
MARGIN = 635
_KEYWORD = re.compile(r"[a-z][a-z0-9._-]{0,254}")


@dataclass(frozen=True)
class Paper:
    keyword: str
    width: int  # hundredths of a millimetre
    height: int


def papers(capabilities: dict[str, Any]) -> list[Paper]:
    reported = capabilities.get("media")
    names = [m for m in reported if isinstance(m, str)] if isinstance(reported, list) else []
    found: dict[str, Paper] = {}
    for name in names or FALLBACK:
        keyword = media_keyword(name)
        size = media_size(keyword)
        if size is None or keyword.startswith("custom_") or keyword in found:
            continue
        found[keyword] = Paper(keyword, *size)
    if not found:
        return papers({"media": list(FALLBACK)})
    return list(found.values())


def default_paper(available: Sequence[Paper]) -> Paper:
    by_keyword = {p.keyword: p for p in available}
    for keyword in PREFERRED_DEFAULT:
        if keyword in by_keyword:
            return by_keyword[keyword]
    return available[0]


def paper_of_size(available: Sequence[Paper], width: int, height: int) -> Paper | None:
    for paper in available:
        if (
            abs(paper.width - width) <= SIZE_TOLERANCE
            and abs(paper.height - height) <= SIZE_TOLERANCE
        ):
            return paper
    return None


def trays(capabilities: dict[str, Any]) -> list[str]:
    """The trays IPP can name: CUPS reports keywords ("tray-1"); a name such as "Tray 1"
    (the Windows spooler's) is not one, and is not offered."""
    reported = capabilities.get("bins")
    if not isinstance(reported, list):
        return []
    return [b for b in reported if isinstance(b, str) and _KEYWORD.fullmatch(b)]


def media_col(paper: Paper, source: str | None = None) -> list[Attribute]:
    members = [
        attr(
            "media-size",
            ValueTag.BEG_COLLECTION,
            [
                attr("x-dimension", ValueTag.INTEGER, paper.width),
                attr("y-dimension", ValueTag.INTEGER, paper.height),
            ],
        ),
        attr("media-size-name", ValueTag.KEYWORD, paper.keyword),
        attr("media-bottom-margin", ValueTag.INTEGER, MARGIN),
        attr("media-left-margin", ValueTag.INTEGER, MARGIN),
        attr("media-right-margin", ValueTag.INTEGER, MARGIN),
        attr("media-top-margin", ValueTag.INTEGER, MARGIN),
        attr("media-type", ValueTag.KEYWORD, "stationery"),
    ]
    if source:
        members.append(attr("media-source", ValueTag.KEYWORD, source))
    return members
