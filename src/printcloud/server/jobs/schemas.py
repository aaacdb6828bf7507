from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from printcloud.protocol.job_states import JobState
from printcloud.server.schemas import ApiInput, ApiModel

MAX_EXPIRE_AFTER = 30 * 24 * 3600
_PAGE_RANGES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


class ContentType(StrEnum):
    PDF_URI = "pdf_uri"
    PDF_BASE64 = "pdf_base64"
    RAW_URI = "raw_uri"
    RAW_BASE64 = "raw_base64"

    @property
    def is_uri(self) -> bool:
        return self.value.endswith("_uri")

    @property
    def is_pdf(self) -> bool:
        return self.value.startswith("pdf_")


def validate_page_ranges(value: str) -> str:
    """``"1-5"``, ``"1,3,5"``, ``"2-4,8"``: pages from 1, each range in order."""
    compact = re.sub(r"\s+", "", value)
    if not _PAGE_RANGES.match(compact):
        raise ValueError(f"{value!r} is not a page range such as '1-5' or '1,3,5'")
    for part in compact.split(","):
        first, _, last = part.partition("-")
        if int(first) < 1 or (last and int(last) < int(first)):
            raise ValueError(
                f"{part!r} is not a valid range: pages start at 1 and a range "
                "goes from a lower to a higher page"
            )
    return compact


class PrintOptions(ApiInput):
    """How to print. An unknown option is refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", alias_generator=None)

    copies: int | None = Field(default=None, ge=1, le=999)
    color: bool | None = None
    duplex: Literal["one-sided", "long-edge", "short-edge"] | None = None
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
        return None if value is None else validate_page_ranges(value)


class PrintJobIn(ApiInput):
    printer_id: str = Field(min_length=1, max_length=40)
    content_type: ContentType
    content: str = Field(min_length=1, description="A document URI, or base64 data")
    title: str = Field(default="Untitled", max_length=255)
    qty: int = Field(default=1, ge=1, le=1000, description="How many times to print the job")
    options: PrintOptions = Field(default_factory=PrintOptions)
    expire_after: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPIRE_AFTER,
        description="[ext] Seconds; a job not delivered by then becomes `expired`",
    )


class JobPrinterOut(ApiModel):
    id: str | None
    name: str


class PrintJobOut(ApiModel):
    id: str
    title: str
    state: JobState
    content_type: ContentType
    printer: JobPrinterOut
    printer_id: str | None
    qty: int
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None


class JobStateOut(ApiModel):
    state: JobState
    message: str
    created_at: datetime
