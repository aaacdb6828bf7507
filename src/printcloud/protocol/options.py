"""How to print a job: the API's ``options``, one grammar for every side.

The server validates a job's options with this model before it accepts the job
(refusing a field it does not know, in its API schema), and the agent reads the
options it is sent with it (ignoring a field a newer server may add). Copies are
counted here too, once: ``copies`` of the document, ``qty`` times the job.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_COPIES = 999
MAX_PAGE = 2**31 - 1  # IPP's integer
Duplex = Literal["one-sided", "long-edge", "short-edge"]
_PAGE_RANGES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def page_ranges(value: str) -> list[tuple[int, int]]:
    """``"1-5"``, ``"1,3,5"``, ``"8,2-4"``: the pages from 1, as (first, last) ranges,
    sorted and merged (IPP wants them ascending and apart). ValueError for anything else."""
    compact = re.sub(r"\s+", "", value)
    if not _PAGE_RANGES.match(compact):
        raise ValueError(f"{value!r} is not a page range such as '1-5' or '1,3,5'")
    ranges = []
    for part in compact.split(","):
        first, _, last = part.partition("-")
        lower, upper = int(first), int(last or first)
        if lower < 1 or upper < lower or upper > MAX_PAGE:
            raise ValueError(
                f"{part!r} is not a valid range: pages start at 1 and a range "
                "goes from a lower to a higher page"
            )
        ranges.append((lower, upper))
    merged: list[tuple[int, int]] = []
    for lower, upper in sorted(ranges):
        if merged and lower <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], upper))
        else:
            merged.append((lower, upper))
    return merged


class PrintOptions(BaseModel):
    """How to print. Absent options are the printer's defaults."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    copies: int | None = Field(default=None, ge=1, le=MAX_COPIES)
    color: bool | None = None
    duplex: Duplex | None = None
    paper: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description='Paper size name, e.g. "A4", "Letter"',
    )
    media: str | None = Field(
        default=None, min_length=1, max_length=64, description="Tray or bin name"
    )
    pages: str | None = Field(
        default=None, max_length=500, description='Page ranges, e.g. "1-5" or "1,3,5"'
    )
    fit_to_page: bool | None = None

    @field_validator("pages")
    @classmethod
    def _pages(cls, value: str | None) -> str | None:
        if value is None:
            return None
        page_ranges(value)
        return re.sub(r"\s+", "", value)

    def total_copies(self, qty: int = 1) -> int:
        """How many times the document comes out: ``copies`` of it, for each of the
        job's ``qty``."""
        return (self.copies or 1) * max(qty, 1)

    def page_ranges(self) -> list[tuple[int, int]]:
        return page_ranges(self.pages) if self.pages else []

    def as_sent(self) -> dict[str, object]:
        """The options as stored and sent: only those that were given."""
        return self.model_dump(exclude_none=True)
