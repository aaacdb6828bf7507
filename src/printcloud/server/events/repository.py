"""The event outbox: written in the same transaction as the change it announces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.events import TEST_EVENT, EventType, wants
from printcloud.server import effects, ids
from printcloud.server.db.models import DeliveryStatus, Event, Webhook, WebhookDelivery, table
from printcloud.server.db.types import isoformat, utcnow

_WEBHOOKS = table(Webhook).c
_INSERT_EVENTS = insert(table(Event)).returning(table(Event).c.seq, sort_by_parameter_order=True)
_ACTIVE_WEBHOOKS = select(_WEBHOOKS.id, _WEBHOOKS.events).where(
    _WEBHOOKS.account_id == bindparam("account_id"), _WEBHOOKS.active.is_(True)
)
_INSERT_DELIVERY = insert(table(WebhookDelivery))
_WEBHOOKS_READ = "printcloud.events.webhooks_read"


async def record(
    session: AsyncSession, account_id: str, event_type: EventType, **fields: Any
) -> int:
    """Add an event whose payload is the webhook body: ``{"type", ..., "timestamp"}``.

    Answers the event's ``seq``.
    """
    (event_seq,) = await record_many(session, [(account_id, event_type, fields)])
    return event_seq


NewEvent = tuple[str, EventType, dict[str, Any]]  # account id, type, payload fields


def _webhooks_read(session: AsyncSession) -> dict[str, list[tuple[str, Any]]]:
    """The accounts' active webhooks read so far in the session's transaction: a
    group-committed batch records many events of the same accounts, and within one
    transaction the answer stands (a webhook added meanwhile is as concurrent as the
    event itself). A new transaction reads again."""
    transaction = session.sync_session.get_transaction()
    read: tuple[object, dict[str, list[tuple[str, Any]]]] | None = session.info.get(_WEBHOOKS_READ)
    if read is None or read[0] is not transaction:
        read = (transaction, {})
        session.info[_WEBHOOKS_READ] = read
    return read[1]


async def record_many(session: AsyncSession, new_events: Sequence[NewEvent]) -> list[int]:
    """Add events, in order, with their deliveries to the accounts' webhooks; answers
    their ``seq``s in the same order.

    Every state change writes one and a batch of jobs writes many, so the statements are
    built once, on the tables, and sent once for the whole batch (executemany; SQLite
    and PostgreSQL answer the RETURNING of a batch in parameter order): ORM objects, or
    a statement per event, cost several times the SQL they send.
    """
    now = utcnow()
    timestamp = isoformat(now)
    rows = [
        {
            "id": ids.event_id(),
            "account_id": account_id,
            "type": event_type.value,
            "payload": {"type": event_type.value, **fields, "timestamp": timestamp},
            "created_at": now,
        }
        for account_id, event_type, fields in new_events
    ]
    event_seqs: list[int] = list((await session.execute(_INSERT_EVENTS, rows)).scalars())
    # Fan out to the accounts' webhooks now, in the same transaction: a delivery
    # exists exactly when its event does.
    webhooks = _webhooks_read(session)
    deliveries = []
    for event_seq, (account_id, event_type, _) in zip(event_seqs, new_events, strict=True):
        if account_id not in webhooks:
            result = await session.execute(_ACTIVE_WEBHOOKS, {"account_id": account_id})
            webhooks[account_id] = [(webhook_id, wanted) for webhook_id, wanted in result.all()]
        deliveries += [
            _delivery(webhook_id, event_seq, now)
            for webhook_id, wanted in webhooks[account_id]
            if wants(wanted, event_type)
        ]
    if deliveries:
        await session.execute(_INSERT_DELIVERY, deliveries)
        effects.webhooks_due(session)
    return event_seqs


async def record_test(session: AsyncSession, account_id: str, webhook_id: str) -> str:
    """A ``webhook.test`` event with its one delivery, to ``webhook_id`` only; answers
    the delivery's message id. Its payload has the shape of every other."""
    now = utcnow()
    payload = {"type": TEST_EVENT, "webhookId": webhook_id, "timestamp": isoformat(now)}
    row = {
        "id": ids.event_id(),
        "account_id": account_id,
        "type": TEST_EVENT,
        "payload": payload,
        "created_at": now,
    }
    event_seq = (await session.execute(_INSERT_EVENTS, [row])).scalar_one()
    delivery = _delivery(webhook_id, event_seq, now)
    await session.execute(_INSERT_DELIVERY, [delivery])
    effects.webhooks_due(session)
    return str(delivery["id"])


def _delivery(webhook_id: str, event_seq: int, now: datetime) -> dict[str, Any]:
    """A new delivery's row: a new message id, due at once."""
    return {
        "id": ids.message_id(),
        "webhook_id": webhook_id,
        "event_seq": event_seq,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
