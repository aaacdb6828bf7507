from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator

from printcloud.protocol.events import SUBSCRIBABLE
from printcloud.server.schemas import ApiInput, ApiModel


def _subscribable(value: str) -> str:
    if value not in SUBSCRIBABLE:
        raise ValueError("Input should be " + ", ".join(f"'{e}'" for e in SUBSCRIBABLE))
    return value


EventName = Annotated[
    str,
    AfterValidator(_subscribable),
    WithJsonSchema({"type": "string", "enum": [str(e) for e in SUBSCRIBABLE]}),
]


class WebhookIn(ApiInput):
    url: str = Field(min_length=1, max_length=2048)
    secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Sent back in X-PrintCloud-Webhook-Secret; generated when omitted. "
        "Printable ASCII only, no spaces at either end: it travels in an HTTP header",
    )
    events: list[EventName] = Field(min_length=1, max_length=10)

    @field_validator("secret")
    @classmethod
    def _fits_a_header(cls, value: str | None) -> str | None:
        # Sent back in a header and used as the signing key: a line break, a NUL or a
        # letter outside ASCII made every delivery fail (or the worker throw).
        if value is not None and not (
            value.isascii() and value.isprintable() and value == value.strip()
        ):
            raise ValueError(
                "use printable ASCII characters only (no line breaks, tabs, NUL or letters "
                "outside ASCII) and no spaces at either end: the secret is sent in an HTTP "
                "header"
            )
        return value

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[EventName]) -> list[EventName]:
        return list(dict.fromkeys(value))


class WebhookOut(ApiModel):
    id: str
    url: str
    events: list[str]
    active: bool
    disabled_reason: str | None = None
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str | None = Field(
        default=None, description="Only when the server generated the secret: shown this once"
    )


class AttemptOut(ApiModel):
    attempt: int
    status_code: int | None
    response_body: str = Field(description="The first KiB of the receiver's answer")
    error: str | None
    failure: str | None = Field(
        default=None,
        description="Why no answer came: connection_refused | timed_out | host_not_found | "
        "connection_failed | unsafe_target; null when the receiver answered, or the attempt "
        "failed some other way (error says)",
    )
    duration_ms: int
    created_at: datetime


class DeliveryOut(ApiModel):
    id: str = Field(description="The message id, sent as webhook-id on every attempt")
    event_type: str
    payload: dict[str, Any]
    status: str = Field(description="pending | succeeded | failed")
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
