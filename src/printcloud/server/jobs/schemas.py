from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from printcloud.protocol import options
from printcloud.protocol.content import DEFAULT_TITLE, ContentType
from printcloud.protocol.job_states import JobState
from printcloud.server.schemas import ApiInput, ApiModel

MAX_EXPIRE_AFTER = 30 * 24 * 3600


class PrintOptions(options.PrintOptions):
    """How to print. An unknown option is refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PrintJobIn(ApiInput):
    printer_id: str = Field(min_length=1, max_length=40)
    content_type: ContentType
    content: str = Field(min_length=1, description="A document URI, or base64 data")
    title: str = Field(default=DEFAULT_TITLE, max_length=255)
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
