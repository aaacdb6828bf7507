"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.db.models import Event, Webhook, WebhookDelivery
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
    await session.flush()  # assigns event.seq
    # Fan out to the account's webhooks now, in the same transaction: a delivery
    # exists exactly when its event does.
    webhooks = await session.scalars(
        select(Webhook).where(Webhook.account_id == account_id, Webhook.active.is_(True))
    )
    for webhook in webhooks:
        if event_type in webhook.events or "all" in webhook.events:
            session.add(
                WebhookDelivery(
                    id=ids.message_id(),
                    webhook_id=webhook.id,
                    event_seq=event.seq,
                    status="pending",
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    return event
