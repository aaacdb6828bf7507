"""Webhook subscriptions. Delivery reads the event outbox elsewhere."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.db.models import Webhook
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, NotFound
from printcloud.server.outbound import url_problem
from printcloud.server.webhooks import repository
from printcloud.server.webhooks.schemas import WebhookIn

log = structlog.get_logger(__name__)


async def create(
    session: AsyncSession, account_id: str, body: WebhookIn, *, allow_private_urls: bool
) -> tuple[Webhook, bool]:
    """The new webhook, and whether its secret was generated here."""
    problem = url_problem(body.url, allow_private=allow_private_urls)
    if problem:
        raise BadRequest(f"url: {problem}")
    generated = body.secret is None
    webhook = Webhook(
        id=ids.webhook_id(),
        account_id=account_id,
        url=body.url,
        secret=body.secret or "whsec_" + secrets.token_urlsafe(24),
        events=list(body.events),
        active=True,
        created_at=utcnow(),
    )
    await repository.add(session, webhook)
    log.info("webhook_created", account_id=account_id, webhook_id=webhook.id)
    return webhook, generated


async def list_webhooks(session: AsyncSession, account_id: str) -> Sequence[Webhook]:
    return await repository.webhooks(session, account_id)


async def get(session: AsyncSession, account_id: str, webhook_id: str) -> Webhook:
    webhook = await repository.webhook(session, account_id, webhook_id)
    if webhook is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return webhook


async def delete(session: AsyncSession, account_id: str, webhook_id: str) -> None:
    await get(session, account_id, webhook_id)
    await repository.remove(session, account_id, webhook_id)
    log.info("webhook_deleted", account_id=account_id, webhook_id=webhook_id)
