"""Webhooks in the database, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Event, Webhook, WebhookAttempt, WebhookDelivery


async def add(session: AsyncSession, webhook: Webhook) -> None:
    session.add(webhook)
    await session.flush()


async def webhooks(session: AsyncSession, account_id: str) -> Sequence[Webhook]:
    result = await session.scalars(
        select(Webhook)
        .where(Webhook.account_id == account_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return result.all()


async def webhook(session: AsyncSession, account_id: str, webhook_id: str) -> Webhook | None:
    return await session.scalar(
        select(Webhook).where(Webhook.account_id == account_id, Webhook.id == webhook_id)
    )


async def remove(session: AsyncSession, account_id: str, webhook_id: str) -> None:
    await session.execute(
        delete(Webhook).where(Webhook.account_id == account_id, Webhook.id == webhook_id)
    )


async def deliveries(
    session: AsyncSession, webhook_id: str, limit: int, before_seq: int | None = None
) -> Sequence[tuple[WebhookDelivery, Event]]:
    """Newest first, ``limit`` of the webhook's deliveries older than ``before_seq``."""
    query = (
        select(WebhookDelivery, Event)
        .join(Event, Event.seq == WebhookDelivery.event_seq)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if before_seq is not None:
        query = query.where(WebhookDelivery.seq < before_seq)
    result = await session.execute(query.order_by(WebhookDelivery.seq.desc()).limit(limit))
    return [(row[0], row[1]) for row in result.all()]


async def attempts(session: AsyncSession, delivery_seqs: Sequence[int]) -> Sequence[WebhookAttempt]:
    result = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_seq.in_(delivery_seqs))
        .order_by(WebhookAttempt.seq)
    )
    return result.all()


async def delivery(
    session: AsyncSession, webhook_id: str, message_id: str
) -> WebhookDelivery | None:
    return await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id == message_id
        )
    )


async def add_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(delivery)
    await session.flush()
