"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.db.models import Event, Webhook, WebhookDelivery, table
from printcloud.server.db.types import isoformat, utcnow
from printcloud.server.db.uow import after_commit

# Set on the runtime's sessions (Runtime.create): the webhook worker's wake-up, so that
# a committed event is sent at once rather than at the worker's next poll.
WAKE_DELIVERY = "printcloud.wake_delivery"

_WEBHOOKS = table(Webhook).c
_INSERT_EVENT = insert(table(Event)).returning(table(Event).c.seq)
_ACTIVE_WEBHOOKS = select(_WEBHOOKS.id, _WEBHOOKS.events).where(
    _WEBHOOKS.account_id == bindparam("account_id"), _WEBHOOKS.active.is_(True)
)
_INSERT_DELIVERY = insert(table(WebhookDelivery))

EVENT_TYPES = (
    "job.created",
    "job.state",
    "computer.connected",
    "computer.disconnected",
    "printer.state",
)


async def record(session: AsyncSession, account_id: str, event_type: str, **fields: Any) -> int:
    """Add an event whose payload is the webhook body: ``{"type", ..., "timestamp"}``.

    Answers the event's ``seq``. Every state change writes one, so its statements are
    built once, on the tables: ORM objects, or statements built per call, cost
    several times the SQL they send.
    """
    assert event_type in EVENT_TYPES, event_type
    now = utcnow()
    payload = {"type": event_type, **fields, "timestamp": isoformat(now)}
    event_seq: int = (
        await session.execute(
            _INSERT_EVENT,
            {
                "id": ids.event_id(),
                "account_id": account_id,
                "type": event_type,
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
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for webhook_id, wanted in webhooks.all()
        if event_type in wanted or "all" in wanted
    ]
    if deliveries:
        await session.execute(_INSERT_DELIVERY, deliveries)
        wake = session.info.get(WAKE_DELIVERY)
        if wake is not None:
            after_commit(session, wake)
    return event_seq
