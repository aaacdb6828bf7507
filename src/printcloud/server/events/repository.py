"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.db.models import Event, Webhook, WebhookDelivery
from printcloud.server.db.types import isoformat, utcnow
from printcloud.server.db.uow import AFTER_COMMIT_KEY, after_commit

# Set on the runtime's sessions (Runtime.create): the webhook worker's wake-up, so that
# a committed event is sent at once rather than at the worker's next poll.
WAKE_DELIVERY = "printcloud.wake_delivery"

EVENT_TYPES = (
    "job.created",
    "job.state",
    "computer.connected",
    "computer.disconnected",
    "printer.state",
)


async def record(session: AsyncSession, account_id: str, event_type: str, **fields: Any) -> int:
    """Add an event whose payload is the webhook body: ``{"type", ..., "timestamp"}``.

    Answers the event's ``seq``. Every state change writes one, so this is written in
    SQL expressions rather than ORM objects: a flush of new objects costs several
    times the INSERT it sends.
    """
    assert event_type in EVENT_TYPES, event_type
    now = utcnow()
    event_seq: int = await session.scalar(  # type: ignore[assignment]
        insert(Event)
        .values(
            id=ids.event_id(),
            account_id=account_id,
            type=event_type,
            payload={"type": event_type, **fields, "timestamp": isoformat(now)},
            created_at=now,
        )
        .returning(Event.seq)
    )
    # Fan out to the account's webhooks now, in the same transaction: a delivery
    # exists exactly when its event does.
    webhooks = await session.execute(
        select(Webhook.id, Webhook.events).where(
            Webhook.account_id == account_id, Webhook.active.is_(True)
        )
    )
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
        await session.execute(insert(WebhookDelivery), deliveries)
        wake = session.info.get(WAKE_DELIVERY)
        if wake is not None and wake not in session.info.get(AFTER_COMMIT_KEY, ()):
            after_commit(session, wake)
    return event_seq
