"""A webhook delivery in words a person reads, as an event log does: what became of it
("Failed — retrying (attempt 3 of 11), next attempt at 14:05 UTC"), and each attempt's
answer ("HTTP 500", "Connection refused", "Timed out after 10 s").

Each is a catalog key with its values, so the page says it in its own language; the
raw error stays in an attempt's details, never as the headline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from printcloud.outbound import Failure
from printcloud.server.db.models import DeliveryStatus
from printcloud.server.webhooks.delivery import MAX_ATTEMPTS
from printcloud.server.webhooks.schemas import AttemptOut, DeliveryOut

# A failure we have no words of our own for: the attempt's error says it.
_OTHER = "other"
_FAILURE_KEYS = {f: f"answer.{f.value}" for f in Failure}


@dataclass(frozen=True)
class Words:
    """A catalog key and the values it is formatted with."""

    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryView:
    delivery: DeliveryOut
    status: Words
    tone: str  # good | bad | warn | muted: the badge's colour
    answer: Words | None  # the last attempt's
    attempts: list[tuple[AttemptOut, Words]]  # each with its answer, oldest first
    payload: str  # pretty JSON, as it was sent


def answer(attempt: AttemptOut) -> Words:
    """What the receiver answered, or why nothing came."""
    if attempt.status_code is not None:
        return Words("answer.http", {"code": attempt.status_code})
    if attempt.failure == Failure.TIMED_OUT:
        return Words("answer.timed_out", {"seconds": round(attempt.duration_ms / 1000)})
    if attempt.failure in _FAILURE_KEYS:
        return Words(_FAILURE_KEYS[Failure(attempt.failure)])
    return Words(f"answer.{_OTHER}")


def _at(when: datetime | None, now: datetime) -> str:
    """A time of today as HH:MM, of another day with its date (retries wait up to 12 h);
    in UTC, as the page's other times, and saying so."""
    if when is None:
        return "—"
    return when.strftime("%H:%M UTC" if when.date() == now.date() else "%Y-%m-%d %H:%M UTC")


def status(delivery: DeliveryOut, *, webhook_active: bool, now: datetime) -> tuple[Words, str]:
    """The delivery's headline and its tone."""
    tried = len(delivery.attempts)
    if delivery.status == DeliveryStatus.SUCCEEDED:
        return Words("delivery.succeeded"), "good"
    if delivery.status == DeliveryStatus.FAILED:
        return Words("delivery.given_up", {"attempts": tried}), "bad"
    if tried == 0:
        return Words("delivery.pending"), "muted"
    if not webhook_active:  # nothing is sent to a disabled webhook until it is enabled
        return Words("delivery.on_hold", {"attempt": tried, "max": MAX_ATTEMPTS}), "bad"
    return Words(
        "delivery.retrying",
        {"attempt": tried, "max": MAX_ATTEMPTS, "at": _at(delivery.next_attempt_at, now)},
    ), "warn"


def view(delivery: DeliveryOut, *, webhook_active: bool, now: datetime) -> DeliveryView:
    headline, tone = status(delivery, webhook_active=webhook_active, now=now)
    return DeliveryView(
        delivery,
        headline,
        tone,
        answer(delivery.attempts[-1]) if delivery.attempts else None,
        [(attempt, answer(attempt)) for attempt in delivery.attempts],
        json.dumps(delivery.payload, indent=2, ensure_ascii=False),
    )
