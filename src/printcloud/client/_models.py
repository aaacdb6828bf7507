"""What the API answers, as typed objects: snake_case here, camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "ApiKey",
    "ApiKeyCreated",
    "ClientLogin",
    "Computer",
    "Job",
    "JobPrinter",
    "JobState",
    "Printer",
    "User",
    "Webhook",
    "WebhookCreated",
]


class _Model(BaseModel):
    """Read from the wire's camelCase; fields the SDK does not know are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Printer(_Model):
    id: str
    name: str
    computer_id: str
    state: str
    is_default: bool = False
    capabilities: dict[str, Any] = Field(default_factory=dict)


class Computer(_Model):
    id: str
    name: str
    os: str = ""
    state: str
    client_version: str = ""
    printers: list[Printer] = Field(default_factory=list)
    last_seen_at: datetime | None = None
    created_at: datetime | None = None


class JobPrinter(_Model):
    """The printer a job was sent to; ``id`` is None once the printer was deleted."""

    id: str | None = None
    name: str


class Job(_Model):
    id: str
    title: str
    state: str
    content_type: str
    printer: JobPrinter
    printer_id: str | None = None
    qty: int = 1
    options: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime | None = None
    expires_at: datetime | None = None


class JobState(_Model):
    """One step of a job's history."""

    state: str
    message: str = ""
    created_at: datetime


class Webhook(_Model):
    id: str
    url: str
    events: list[str]
    active: bool
    disabled_reason: str | None = None
    created_at: datetime | None = None


class WebhookCreated(Webhook):
    """A new webhook; ``secret`` only when the server generated it (shown this once)."""

    secret: str | None = None


class DeliveryAttempt(_Model):
    attempt: int
    status_code: int | None = None
    response_body: str = ""
    error: str | None = None
    duration_ms: int = 0
    created_at: datetime


class Delivery(_Model):
    """One event sent (or being sent) to one webhook; ``id`` is its webhook-id."""

    id: str
    event_type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    status: str
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    created_at: datetime


class ApiKey(_Model):
    id: str
    description: str
    permission: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    # When the key was last used, to within a few minutes; None if never.
    last_used_at: datetime | None = None


class ApiKeyCreated(_Model):
    """A new API key; ``key`` is the key itself, shown this once."""

    id: str
    key: str
    description: str
    permission: str
    created_at: datetime


class User(_Model):
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str


class ClientLogin(_Model):
    """What ``Client.login`` answers: a new ``full`` API key, and whose it is."""

    api_key: str
    user: User
    success: bool = True
