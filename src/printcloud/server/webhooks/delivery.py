"""Webhook delivery: the worker is a thin loop over ``deliver_due``, which tests call.

Each delivery row is one event for one webhook. A worker claims due rows (on
PostgreSQL with SKIP LOCKED, so two instances never take the same one), posts
them through the safe-request module with the original body and header plus a
Standard Webhooks signature, and records every attempt. 2xx succeeds; 410
disables the webhook; anything else is retried on a schedule of about a day
(honouring Retry-After), and a webhook failing for days is disabled with the
reason. Deliveries of one webhook are sent in event order by one worker; under
retries a later event may arrive before an earlier one that is being retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.outbound import ClientPool, UnsafeTarget, safe_request
from printcloud.server.db.models import (
    DeliveryStatus,
    Event,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    table,
)
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.periodic import Periodic
from printcloud.server.settings import Settings
from printcloud.server.webhooks import signing

log = structlog.get_logger(__name__)

# Seconds before attempt 2, 3, ...: about 26 hours in all, then the delivery is given up.
RETRY_DELAYS = (10, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200)
MAX_RETRY_AFTER = 24 * 3600
BATCH = 50
KEPT_RESPONSE = 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    body: str
    error: str | None
    duration_ms: int
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class _Claimed:
    delivery_seq: int
    message_id: str
    attempt: int
    webhook_id: str
    url: str
    secret: str
    body: bytes


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - utcnow()).total_seconds())
    return None


async def send(claimed: _Claimed, settings: Settings, clients: ClientPool | None = None) -> Outcome:
    """One HTTP attempt; never raises."""
    timestamp = int(time.time())
    started = time.monotonic()
    try:
        response = await safe_request(
            "POST",
            claimed.url,
            content=claimed.body,
            headers=signing.headers(claimed.secret, claimed.message_id, timestamp, claimed.body),
            timeout=settings.webhook_timeout,
            allow_private=settings.allow_private_urls,
            max_response_bytes=KEPT_RESPONSE,
            clients=clients,
        )
    except UnsafeTarget as exc:
        error = f"refused: {exc}"
    except httpx.TimeoutException:
        error = f"no answer within {settings.webhook_timeout:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        return Outcome(
            response.status_code,
            response.body.decode("utf-8", errors="replace")[:KEPT_RESPONSE],
            None,
            int((time.monotonic() - started) * 1000),
            _retry_after(response.headers.get("retry-after")),
        )
    return Outcome(None, "", error, int((time.monotonic() - started) * 1000), None)


_DELIVERIES = table(WebhookDelivery).c
# The worker's statements run for every delivery: built once, on the tables.
_TAKE = (
    update(table(WebhookDelivery))
    .where(_DELIVERIES.seq == bindparam("b_seq"), _DELIVERIES.attempts == bindparam("b_attempts"))
    .values(locked_until=bindparam("b_lease"), attempts=bindparam("b_attempts") + 1)
)
_INSERT_ATTEMPT = insert(table(WebhookAttempt))
_SUCCEEDED = (
    update(table(WebhookDelivery))
    .where(_DELIVERIES.seq == bindparam("b_seq"))
    .values(
        status=DeliveryStatus.SUCCEEDED,
        locked_until=None,
        last_status_code=bindparam("b_status_code"),
        last_error=None,
        updated_at=bindparam("b_now"),
    )
)
_NOT_FAILING = (
    update(table(Webhook))
    .where(
        table(Webhook).c.id == bindparam("b_webhook_id"),
        table(Webhook).c.failing_since.is_not(None),
    )
    .values(failing_since=None)
)


async def _claim(session: AsyncSession, settings: Settings, now: datetime) -> list[_Claimed]:
    lease = now + timedelta(seconds=settings.webhook_timeout * 3 + 30)
    rows = await session.execute(
        select(
            _DELIVERIES.seq,
            _DELIVERIES.id,
            _DELIVERIES.attempts,
            _DELIVERIES.webhook_id,
            Webhook.url,
            Webhook.secret,
            Event.payload,
        )
        .join(Webhook, Webhook.id == _DELIVERIES.webhook_id)
        .join(Event, Event.seq == _DELIVERIES.event_seq)
        .where(
            _DELIVERIES.status == DeliveryStatus.PENDING,
            _DELIVERIES.next_attempt_at <= now,
            (_DELIVERIES.locked_until.is_(None)) | (_DELIVERIES.locked_until < now),
            Webhook.active.is_(True),
        )
        .order_by(_DELIVERIES.seq)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=table(WebhookDelivery))
    )
    claimed = []
    for seq, message_id, attempts, webhook_id, url, secret, payload in rows.all():
        # Compare-and-set: where SKIP LOCKED does not exist (SQLite), two workers that
        # read the same row cannot both take it.
        taken = await session.execute(
            _TAKE, {"b_seq": seq, "b_attempts": attempts, "b_lease": lease}
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            continue
        claimed.append(
            _Claimed(
                seq,
                message_id,
                attempts + 1,
                webhook_id,
                url,
                secret,
                json.dumps(payload, separators=(",", ":")).encode(),
            )
        )
    return claimed


async def _record(
    session: AsyncSession, settings: Settings, claimed: _Claimed, outcome: Outcome
) -> None:
    now = utcnow()
    await session.execute(
        _INSERT_ATTEMPT,
        {
            "delivery_seq": claimed.delivery_seq,
            "attempt": claimed.attempt,
            "status_code": outcome.status_code,
            "response_body": outcome.body,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
            "created_at": now,
        },
    )
    if outcome.ok:
        # The common case, in two statements that change nothing of a row deleted
        # meanwhile; a failure takes the objects below, with their rules.
        params = {
            "b_seq": claimed.delivery_seq,
            "b_status_code": outcome.status_code,
            "b_now": now,
        }
        await session.execute(_SUCCEEDED, params)
        await session.execute(_NOT_FAILING, {"b_webhook_id": claimed.webhook_id})
        return
    delivery = await session.get(WebhookDelivery, claimed.delivery_seq)
    webhook = await session.get(Webhook, claimed.webhook_id)
    if delivery is None or webhook is None:  # deleted meanwhile
        return
    delivery.locked_until = None
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.updated_at = now
    if outcome.status_code == 410:
        delivery.status = DeliveryStatus.FAILED
        _disable(webhook, f"The endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC")
        return
    webhook.failing_since = webhook.failing_since or now
    if (now - webhook.failing_since).total_seconds() >= settings.webhook_disable_after:
        _disable(
            webhook,
            f"Every delivery failed since {webhook.failing_since:%Y-%m-%d %H:%M} "
            f"UTC; the last: {outcome.error or f'HTTP {outcome.status_code}'}",
        )
    if claimed.attempt > len(RETRY_DELAYS):
        delivery.status = DeliveryStatus.FAILED
        return
    delay = RETRY_DELAYS[claimed.attempt - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - spread
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
    delivery.next_attempt_at = now + timedelta(seconds=delay * settings.webhook_retry_scale)


def _disable(webhook: Webhook, reason: str) -> None:
    webhook.active = False
    webhook.disabled_reason = reason
    log.warning("webhook_disabled", webhook_id=webhook.id, reason=reason)


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clients: ClientPool | None = None,
) -> int:
    """Claim what is due, send it (each webhook's in order), record it. How many sent."""
    async with unit_of_work(sessionmaker) as session:
        claimed = await _claim(session, settings, utcnow())
    by_webhook: dict[str, list[_Claimed]] = defaultdict(list)
    for item in claimed:
        by_webhook[item.webhook_id].append(item)

    async def in_order(items: list[_Claimed]) -> None:
        for item in items:
            outcome = await send(item, settings, clients)
            async with unit_of_work(sessionmaker) as session:
                await _record(session, settings, item, outcome)
            log.info(
                "webhook_attempt",
                webhook_id=item.webhook_id,
                message_id=item.message_id,
                attempt=item.attempt,
                status=outcome.status_code,
                error=outcome.error,
            )

    await asyncio.gather(*(in_order(items) for items in by_webhook.values()))
    return len(claimed)


class DeliveryWorker:
    """Runs ``deliver_due`` in the background of a server, or of `printcloud worker`."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # Receivers' connections are kept between deliveries, for the worker's lifetime.
        self._clients = ClientPool(settings.webhook_timeout)

        async def work() -> bool:
            # A full batch: more may be due now. Otherwise the poll still finds retries
            # that came due and another process's events.
            return await deliver_due(sessionmaker, settings, self._clients) >= BATCH

        self._loop = Periodic(
            "webhook-delivery", work, interval=settings.webhook_poll_interval, first_delay=0
        )

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """New deliveries were committed: look now instead of at the next poll."""
        self._loop.wake()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._clients.aclose()
