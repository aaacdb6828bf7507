"""What PrintNode's ``POST /printjobs`` takes (its reference, and what its Python
client sends); a field it does not document is refused, naming it."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from printcloud.protocol.content import DEFAULT_TITLE, ContentType
from printcloud.server.jobs.schemas import MAX_EXPIRE_AFTER
from printcloud.server.schemas import ApiInput


class PrintNodeJobIn(ApiInput):
    model_config = ConfigDict(extra="forbid")

    # An integer; clients that send it as a string of digits are read as PrintNode does.
    printer_id: int = Field(ge=1)
    content_type: ContentType
    content: str = Field(min_length=1)
    title: str = Field(default=DEFAULT_TITLE, max_length=255)
    source: str | None = Field(default=None, max_length=255)
    options: dict[str, Any] = Field(default_factory=dict)
    expire_after: int | None = Field(default=None, ge=1, le=MAX_EXPIRE_AFTER)
    qty: int = Field(default=1, ge=1, le=1000)
    # Credentials for downloading a *_uri document: refused (see service.submit).
    authentication: Any = None
