"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.db.models import Event
from printcloud.server.db.types import isoformat, utcnow

EVENT_TYPES = (
    "job.created",
    "job.state",
    "computer.connected",
    "computer.disconnected",
    "printer.state",
)


async def record(session: AsyncSession, account_id: str, event_type: str, **fields: Any) -> Event:
    """Add an event whose payload is the webhook body: ``{"type", ..., "timestamp"}``."""
    assert event_type in EVENT_TYPES, event_type
    now = utcnow()
    event = Event(
        id=ids.event_id(),
        account_id=account_id,
        type=event_type,
        payload={"type": event_type, **fields, "timestamp": isoformat(now)},
        created_at=now,
    )
    session.add(event)
    return event
