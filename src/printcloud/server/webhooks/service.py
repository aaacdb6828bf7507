"""Webhook subscriptions. Delivery reads the event outbox elsewhere."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.outbound import url_problem
from printcloud.server import ids
from printcloud.server.db.models import DeliveryStatus, Webhook, WebhookDelivery
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, NotFound
from printcloud.server.events import repository as events
from printcloud.server.webhooks import repository, signing
from printcloud.server.webhooks.schemas import AttemptOut, DeliveryOut, WebhookIn

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
        secret=body.secret or signing.PREFIX + base64.b64encode(secrets.token_bytes(24)).decode(),
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


async def list_deliveries(
    session: AsyncSession, account_id: str, webhook_id: str, limit: int, after: str | None = None
) -> list[DeliveryOut]:
    """Newest first; with ``after`` (a delivery id), those older than that one."""
    await get(session, account_id, webhook_id)
    before_seq = None
    if after:
        cursor = await repository.delivery(session, webhook_id, after)
        if cursor is None:
            raise NotFound(f"Delivery {after} not found")
        before_seq = cursor.seq
    rows = await repository.deliveries(session, webhook_id, limit, before_seq)
    by_delivery: dict[int, list[AttemptOut]] = {}
    for attempt in await repository.attempts(session, [d.seq for d, _ in rows]):
        by_delivery.setdefault(attempt.delivery_seq, []).append(AttemptOut.model_validate(attempt))
    return [
        DeliveryOut(
            id=d.id,
            event_type=event.type,
            payload=event.payload,
            status=d.status,
            attempts=by_delivery.get(d.seq, []),
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            created_at=d.created_at,
        )
        for d, event in rows
    ]


async def replay(
    session: AsyncSession, account_id: str, webhook_id: str, message_id: str
) -> WebhookDelivery:
    """Send a delivery's event again, as a new message, whatever became of the first."""
    await get(session, account_id, webhook_id)
    original = await repository.delivery(session, webhook_id, message_id)
    if original is None:
        raise NotFound(f"Delivery {message_id} not found")
    now = utcnow()
    again = WebhookDelivery(
        id=ids.message_id(),
        webhook_id=webhook_id,
        event_seq=original.event_seq,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    await repository.add_delivery(session, again)
    log.info("webhook_replay", webhook_id=webhook_id, message_id=message_id, new=again.id)
    return again


async def send_test_event(session: AsyncSession, account_id: str, webhook_id: str) -> str:
    """Queue a ``webhook.test`` event for this webhook alone, delivered by the worker as
    any other; answers its delivery's message id."""
    webhook = await get(session, account_id, webhook_id)
    if not webhook.active:  # it would wait, unsent, until the webhook is enabled
        raise BadRequest("The webhook is disabled: enable it, then send a test event")
    message_id = await events.record_test(session, account_id, webhook.id)
    log.info("webhook_test_event", webhook_id=webhook_id, message_id=message_id)
    return message_id


async def enable(session: AsyncSession, account_id: str, webhook_id: str) -> Webhook:
    webhook = await get(session, account_id, webhook_id)
    webhook.active = True
    webhook.disabled_reason = None
    webhook.failing_since = None
    log.info("webhook_enabled", webhook_id=webhook_id)
    return webhook
