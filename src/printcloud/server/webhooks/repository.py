"""Webhooks in the database, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Webhook


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
