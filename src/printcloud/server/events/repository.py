"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.events import EventType, wants
from printcloud.server import effects, ids
from printcloud.server.db.models import DeliveryStatus, Event, Webhook, WebhookDelivery, table
from printcloud.server.db.types import isoformat, utcnow

_WEBHOOKS = table(Webhook).c
_INSERT_EVENT = insert(table(Event)).returning(table(Event).c.seq)
_ACTIVE_WEBHOOKS = select(_WEBHOOKS.id, _WEBHOOKS.events).where(
    _WEBHOOKS.account_id == bindparam("account_id"), _WEBHOOKS.active.is_(True)
)
_INSERT_DELIVERY = insert(table(WebhookDelivery))


async def record(
    session: AsyncSession, account_id: str, event_type: EventType, **fields: Any
) -> int:
    """Add an event whose payload is the webhook body: ``{"type", ..., "timestamp"}``.

    Answers the event's ``seq``. Every state change writes one, so its statements are
    built once, on the tables: ORM objects, or statements built per call, cost
    several times the SQL they send.
    """
    now = utcnow()
    payload = {"type": event_type.value, **fields, "timestamp": isoformat(now)}
    event_seq: int = (
        await session.execute(
            _INSERT_EVENT,
            {
                "id": ids.event_id(),
                "account_id": account_id,
                "type": event_type.value,
                "payload": payload,
                "created_at": now,
            },
        )
    ).scalar_one()
    # Fan out to the account's webhooks now, in the same transaction: a delivery
    # exists exactly when its event does.
    webhooks = await session.execute(_ACTIVE_WEBHOOKS, {"account_id": account_id})
    deliveries = [
        {
            "id": ids.message_id(),
            "webhook_id": webhook_id,
            "event_seq": event_seq,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for webhook_id, wanted in webhooks.all()
        if wants(wanted, event_type)
    ]
    if deliveries:
        await session.execute(_INSERT_DELIVERY, deliveries)
        effects.webhooks_due(session)
    return event_seq
