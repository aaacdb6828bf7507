"""Webhook delivery: the worker is a thin loop over ``deliver_due``, which tests call.

Each delivery row is one event for one webhook. A pass of the worker claims a batch
of due rows in one transaction (on PostgreSQL with SKIP LOCKED, and on every
database with a lease set only where no live lease is, so two instances never take
the same one), posts them through the safe-request module (``outbound.SafeClient``)
with the original body and header plus a Standard Webhooks signature, and records
every attempt of the batch in one transaction. 2xx succeeds; 410 disables the
webhook; anything else (an error of any kind included) is a failed attempt, with
its reason, retried on a schedule of about a day (honouring Retry-After), and a
webhook failing for days is disabled with the reason.

Deliveries are claimed in due order (``next_attempt_at``: an event's time for its
first attempt) and each webhook's deliveries of a batch are sent one at a time, in
event order, by one worker: each waits for the previous one's answer. Different
webhooks are sent at once, at most ``webhook_concurrency`` requests in flight to one
receiver (scheme, host, port). A webhook's first failure ends its part of the pass,
and a pass starts no request after ``PASS_TIME``: what was not sent is released,
unattempted, for the next pass. Under retries a later event may arrive before an
earlier one that is being retried. Delivery is at least once: a worker that dies
between sending a batch and recording it leaves its lease to expire (``PASS_TIME``
plus the timeout and 30 s), and what it sent is sent again; a worker being stopped
records what it sent first.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import structlog
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.outbound import Failure, RequestFailed, SafeClient, UnsafeTarget
from printcloud.server import metrics
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
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_RETRY_AFTER = 24 * 3600
# Deliveries claimed in a pass: a larger batch shares its claim, its record and the
# event loop's turns among more requests (50 -> 200: 400 -> 260 CPU-us a delivery to
# 20 webhooks; bench/webhook_throughput.py).
BATCH = 200
# Seconds after which a pass starts no more requests: what it has not sent by then is
# released for the next pass. A slow receiver (answering just before the timeout)
# cannot keep a pass, and the lease, going for its whole batch.
PASS_TIME = 60.0
KEPT_RESPONSE = 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    body: str
    error: str | None
    duration_ms: int
    retry_after: float | None
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def kind(self) -> str:
        """The outcome in the operator's metrics' words (``metrics.WEBHOOK_OUTCOMES``)."""
        code = self.status_code
        if code is None:
            return metrics.ERROR if self.failure is None else self.failure.value
        if self.ok:
            return metrics.SUCCESS
        if 400 <= code < 500:
            return metrics.CLIENT_ERROR
        return metrics.SERVER_ERROR if code >= 500 else metrics.OTHER_STATUS


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


def _client(settings: Settings) -> SafeClient:
    return SafeClient(
        allow_private=settings.allow_private_urls, per_host=settings.webhook_concurrency
    )


async def send(claimed: _Claimed, settings: Settings, client: SafeClient) -> Outcome:
    """One HTTP attempt; never raises (but for cancellation): any error is the outcome."""
    timestamp = int(time.time())
    started = time.monotonic()
    failure: Failure | None = None
    try:
        response = await client.request(
            "POST",
            claimed.url,
            content=claimed.body,
            headers=signing.headers(claimed.secret, claimed.message_id, timestamp, claimed.body),
            timeout=settings.webhook_timeout,
            max_response_bytes=KEPT_RESPONSE,
        )
    except UnsafeTarget as exc:
        error, failure = f"refused: {exc}", Failure.UNSAFE_TARGET
    except RequestFailed as exc:
        failure = exc.failure
        error = (
            f"no answer within {settings.webhook_timeout:g} s"
            if failure == Failure.TIMED_OUT
            else str(exc)
        )
    except Exception as exc:
        # Whatever else went wrong is this attempt's failure, not the batch's: the
        # others' outcomes are still recorded, and this one is retried as usual.
        log.warning("webhook_send_error", webhook_id=claimed.webhook_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        return Outcome(
            response.status_code,
            response.body.decode("utf-8", errors="replace")[:KEPT_RESPONSE],
            None,
            int((time.monotonic() - started) * 1000),
            _retry_after(response.headers.get("retry-after")),
        )
    return Outcome(None, "", error, int((time.monotonic() - started) * 1000), None, failure)


_DELIVERIES = table(WebhookDelivery).c
_WEBHOOKS = table(Webhook).c
_EVENTS = table(Event).c
# The worker's statements run for every batch: built once, on the tables.
_DUE = (
    select(
        _DELIVERIES.seq,
        _DELIVERIES.id,
        _DELIVERIES.webhook_id,
        _WEBHOOKS.url,
        _WEBHOOKS.secret,
        _EVENTS.payload,
    )
    .join(table(Webhook), _WEBHOOKS.id == _DELIVERIES.webhook_id)
    .join(table(Event), _EVENTS.seq == _DELIVERIES.event_seq)
    .where(
        _DELIVERIES.status == DeliveryStatus.PENDING,
        _DELIVERIES.next_attempt_at <= bindparam("b_now"),
        (_DELIVERIES.locked_until.is_(None)) | (_DELIVERIES.locked_until < bindparam("b_now")),
        _WEBHOOKS.active.is_(True),
    )
    # Due order, the index's (status, next_attempt_at): the scan stops at the batch.
    # Ordered by seq, every due row was read and sorted to take the first 50 (8 ms a
    # pass with 6,000 due, against 0.15 ms).
    .order_by(_DELIVERIES.next_attempt_at, _DELIVERIES.seq)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True, of=table(WebhookDelivery))
)
# The claim itself: a lease only where there is no live one, so that where SKIP LOCKED
# does not exist (SQLite), of two workers that read the same rows only one takes each.
_TAKE = (
    update(table(WebhookDelivery))
    .where(
        _DELIVERIES.seq.in_(bindparam("b_seqs", expanding=True)),
        _DELIVERIES.status == DeliveryStatus.PENDING,
        (_DELIVERIES.locked_until.is_(None)) | (_DELIVERIES.locked_until < bindparam("b_now")),
    )
    .values(locked_until=bindparam("b_lease"), attempts=_DELIVERIES.attempts + 1)
    .returning(_DELIVERIES.seq, _DELIVERIES.attempts)
)
# The deliveries of a batch that still exist (a webhook deleted meanwhile takes its
# own with it), locked on PostgreSQL until the batch is recorded.
_EXISTING = (
    select(_DELIVERIES.seq)
    .where(_DELIVERIES.seq.in_(bindparam("b_seqs", expanding=True)))
    .with_for_update()
)
_RELEASE = (
    update(table(WebhookDelivery))
    .where(_DELIVERIES.seq.in_(bindparam("b_seqs", expanding=True)))
    .values(locked_until=None, attempts=_DELIVERIES.attempts - 1)
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
        _WEBHOOKS.id.in_(bindparam("b_webhook_ids", expanding=True)),
        _WEBHOOKS.failing_since.is_not(None),
    )
    .values(failing_since=None)
)


def _receiver(url: str) -> tuple[str, str, int | None]:
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    return ("", url, None)  # not a URL at all: its send fails on its own


def _lease(settings: Settings, now: datetime) -> datetime:
    """Until when a batch is ours: its pass starts no request after ``PASS_TIME``, and
    the last one started may take ``webhook_timeout``. A worker that died holding it
    leaves its deliveries to another worker after that."""
    return now + timedelta(seconds=PASS_TIME + settings.webhook_timeout + 30)


async def _claim(session: AsyncSession, settings: Settings, now: datetime) -> list[_Claimed]:
    rows = (await session.execute(_DUE, {"b_now": now, "b_limit": BATCH})).all()
    if not rows:
        return []
    lease = _lease(settings, now)
    taken = await session.execute(
        _TAKE, {"b_seqs": [row.seq for row in rows], "b_now": now, "b_lease": lease}
    )
    attempts: dict[int, int] = {row.seq: row.attempts for row in taken}
    # Each webhook's deliveries are sent in event order: the same as due order for
    # first attempts, but for events written by instances whose clocks differ a little.
    return [
        _Claimed(
            seq,
            message_id,
            attempts[seq],
            webhook_id,
            url,
            secret,
            json.dumps(payload, separators=(",", ":")).encode(),
        )
        for seq, message_id, webhook_id, url, secret, payload in sorted(rows, key=lambda r: r.seq)
        if seq in attempts
    ]


async def _send_all(
    claimed: Sequence[_Claimed],
    settings: Settings,
    client: SafeClient,
    outcomes: dict[int, Outcome],
) -> None:
    """Send a batch: each webhook's deliveries in order, one at a time; the webhooks at
    once, at most ``webhook_concurrency`` requests to one receiver. A webhook's first
    failure ends its part of the pass: its later deliveries are not sent after it (a
    receiver that times out would hold the pass for each of them), and no request
    starts after ``PASS_TIME``. Each outcome lands in ``outcomes`` (by delivery seq) as
    it comes, so that a pass stopped midway still knows what it sent."""
    by_webhook: dict[str, list[_Claimed]] = defaultdict(list)
    for item in claimed:
        by_webhook[item.webhook_id].append(item)
    slots: defaultdict[tuple[str, str, int | None], asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.webhook_concurrency)
    )
    deadline = time.monotonic() + PASS_TIME

    async def in_order(items: list[_Claimed]) -> None:
        receiver = slots[_receiver(items[0].url)]
        for item in items:
            async with receiver:
                if time.monotonic() > deadline:
                    return
                outcome = outcomes[item.delivery_seq] = await send(item, settings, client)
            if not outcome.ok:
                return

    await asyncio.gather(*(in_order(items) for items in by_webhook.values()))


async def _record(
    session: AsyncSession,
    settings: Settings,
    results: Sequence[tuple[_Claimed, Outcome]],
    unsent: Sequence[_Claimed] = (),
) -> None:
    """Record a batch's attempts, in one transaction; what was claimed but not sent is
    due again at once, its claim not counted as an attempt."""
    if unsent:
        await session.execute(_RELEASE, {"b_seqs": [item.delivery_seq for item in unsent]})
    now = utcnow()
    existing = set(
        (
            await session.execute(_EXISTING, {"b_seqs": [c.delivery_seq for c, _ in results]})
        ).scalars()
    )
    results = [(c, o) for c, o in results if c.delivery_seq in existing]
    if not results:
        return
    await session.execute(
        _INSERT_ATTEMPT,
        [
            {
                "delivery_seq": claimed.delivery_seq,
                "attempt": claimed.attempt,
                "status_code": outcome.status_code,
                "response_body": outcome.body,
                "error": outcome.error,
                "failure": outcome.failure,
                "duration_ms": outcome.duration_ms,
                "created_at": now,
            }
            for claimed, outcome in results
        ],
    )
    # The common case, successes, in two statements for the whole batch; a webhook with
    # a failure in the batch takes the objects below, with their rules.
    failing = {claimed.webhook_id for claimed, outcome in results if not outcome.ok}
    succeeded = [
        {"b_seq": claimed.delivery_seq, "b_status_code": outcome.status_code, "b_now": now}
        for claimed, outcome in results
        if outcome.ok
    ]
    if succeeded:
        await session.execute(_SUCCEEDED, succeeded)
    healthy = {claimed.webhook_id for claimed, outcome in results if outcome.ok} - failing
    if healthy:
        await session.execute(_NOT_FAILING, {"b_webhook_ids": sorted(healthy)})
    for claimed, outcome in results:
        if claimed.webhook_id in failing:
            await _record_with_rules(session, settings, claimed, outcome, now)


async def _record_with_rules(
    session: AsyncSession, settings: Settings, claimed: _Claimed, outcome: Outcome, now: datetime
) -> None:
    """One outcome of a webhook that failed in this batch, in the batch's order: a
    success clears its failing state, a failure is scheduled again or given up."""
    webhook = await session.get(Webhook, claimed.webhook_id)
    if webhook is None:  # deleted meanwhile
        return
    if outcome.ok:
        webhook.failing_since = None
        return
    delivery = await session.get(WebhookDelivery, claimed.delivery_seq)
    if delivery is None:
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
    if claimed.attempt >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        return
    delay = RETRY_DELAYS[claimed.attempt - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - spread
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
    delivery.next_attempt_at = now + timedelta(seconds=delay * settings.webhook_retry_scale)


def _disable(webhook: Webhook, reason: str) -> None:
    if not webhook.active:
        return  # disabled already, earlier in the batch
    webhook.active = False
    webhook.disabled_reason = reason
    log.warning("webhook_disabled", webhook_id=webhook.id, reason=reason)


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: SafeClient | None = None,
) -> int:
    """Claim a batch of what is due, send it, record it. How many were sent.

    Without ``client``, a pass of its own: connections are opened for it and closed
    after it (the worker keeps one client for its lifetime).
    """
    return (await _deliver_batch(sessionmaker, settings, client))[1]


async def _deliver_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: SafeClient | None = None,
) -> tuple[int, int]:
    """``deliver_due``; how many were claimed, and sent."""
    async with unit_of_work(sessionmaker) as session:
        claimed = await _claim(session, settings, utcnow())
    if not claimed:
        return 0, 0
    sender = _client(settings) if client is None else client
    outcomes: dict[int, Outcome] = {}

    async def record() -> None:
        results = [(c, outcomes[c.delivery_seq]) for c in claimed if c.delivery_seq in outcomes]
        unsent = [c for c in claimed if c.delivery_seq not in outcomes]
        async with unit_of_work(sessionmaker) as session:
            await _record(session, settings, results, unsent)

    try:
        await _send_all(claimed, settings, sender, outcomes)
    except asyncio.CancelledError:
        # The worker is stopping: what was sent is recorded and the rest released, so
        # that neither waits for the lease (nor is sent twice).
        try:
            await asyncio.shield(record())
        except Exception:
            log.exception("webhook_batch_not_recorded")  # sent again after the lease
        raise
    finally:
        if client is None:
            await sender.aclose()
    await record()
    results = [(c, outcomes[c.delivery_seq]) for c in claimed if c.delivery_seq in outcomes]
    for item, outcome in results:
        metrics.WEBHOOK_DELIVERIES_BY_OUTCOME[outcome.kind].inc()
        metrics.WEBHOOK_DELIVERY_SECONDS.observe(outcome.duration_ms / 1000)
        log.info(
            "webhook_attempt",
            webhook_id=item.webhook_id,
            message_id=item.message_id,
            attempt=item.attempt,
            status=outcome.status_code,
            error=outcome.error,
        )
    return len(claimed), len(results)


class DeliveryWorker:
    """Runs ``deliver_due`` in the background of a server, or of `printcloud worker`."""

    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        # Receivers' connections are kept between deliveries, for the worker's lifetime.
        self._client = _client(settings)

        async def work() -> bool:
            # A full batch: more may be due now. Otherwise the poll still finds retries
            # that came due and another process's events.
            claimed, _ = await _deliver_batch(sessionmaker, settings, self._client)
            return claimed >= BATCH

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
        await self._client.aclose()
