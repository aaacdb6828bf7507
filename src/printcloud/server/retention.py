"""History pruning: what the service no longer needs is deleted, a batch at a time.

Without it every table grows for as long as the service runs. The indexes keep
the hot path's queries from scanning the history, but the database file, its
backups and the history pages would grow without end. Each instance prunes on
its own timer; the deletes are idempotent, so two instances pruning at once only
find less to do. Batches are small so that no transaction holds SQLite's write
lock (or PostgreSQL's row locks) for long while jobs are being submitted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Select, and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.protocol.job_states import FINAL_STATES
from printcloud.server.db.models import (
    DeliveryStatus,
    Event,
    IdempotencyKey,
    PrintJob,
    UserToken,
    WebhookDelivery,
    WebSession,
)
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs.idempotency import WINDOW as IDEMPOTENCY_WINDOW
from printcloud.server.periodic import Periodic
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

BATCH = 200
# Between batches: a batch's cascade holds SQLite's one connection (and so the event
# loop) for tens of milliseconds; agents and requests get their turn in between.
PAUSE = 0.05
# The first pass waits this long after start-up: a restart is for agents reconnecting.
FIRST_PASS_DELAY = 120.0


@dataclass(frozen=True)
class Pruned:
    jobs: int = 0
    events: int = 0
    idempotency_keys: int = 0
    web_sessions: int = 0
    user_tokens: int = 0


def _finished_jobs(cutoff: datetime) -> Select[int]:
    # Their documents and state histories go with them: ON DELETE CASCADE.
    return (
        select(PrintJob.seq)
        .where(PrintJob.state.in_(sorted(FINAL_STATES)), PrintJob.updated_at < cutoff)
        .order_by(PrintJob.seq)
        .limit(BATCH)
    )


def _delivered_events(cutoff: datetime) -> Select[int]:
    # Their deliveries and attempts go with them; an event still being delivered stays.
    pending = exists().where(
        and_(
            WebhookDelivery.event_seq == Event.seq,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
    )
    return (
        select(Event.seq)
        .where(Event.created_at < cutoff, ~pending)
        .order_by(Event.seq)
        .limit(BATCH)
    )


def _old_idempotency_keys(cutoff: datetime) -> Select[int]:
    return (
        select(IdempotencyKey.seq)
        .where(IdempotencyKey.created_at < cutoff)
        .order_by(IdempotencyKey.seq)
        .limit(BATCH)
    )


async def _delete_batch(
    session: AsyncSession, model: type[PrintJob | Event | IdempotencyKey], batch: Select[int]
) -> int:
    keys = list((await session.scalars(batch)).all())
    if keys:
        await session.execute(delete(model).where(model.seq.in_(keys)))
    return len(keys)


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> Pruned:
    """Delete one pass of everything past its retention; how many rows of each."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    passes: list[tuple[str, type[PrintJob | Event | IdempotencyKey], Select[int]]] = [
        ("jobs", PrintJob, _finished_jobs(now - timedelta(days=settings.job_retention_days))),
        ("events", Event, _delivered_events(now - timedelta(days=settings.event_retention_days))),
        ("idempotency_keys", IdempotencyKey, _old_idempotency_keys(now - IDEMPOTENCY_WINDOW)),
    ]
    for name, model, batch in passes:
        counts[name] = 0
        while True:
            async with unit_of_work(sessionmaker) as session:
                deleted = await _delete_batch(session, model, batch)
            counts[name] += deleted
            if deleted < BATCH:
                break
            await asyncio.sleep(PAUSE)
    async with unit_of_work(sessionmaker) as session:
        result = await session.execute(delete(WebSession).where(WebSession.expires_at < now))
        counts["web_sessions"] = int(result.rowcount)  # type: ignore[attr-defined]
        # Invitation and reset links past their expiry, used or not: none opens anything.
        result = await session.execute(delete(UserToken).where(UserToken.expires_at < now))
        counts["user_tokens"] = int(result.rowcount)  # type: ignore[attr-defined]
    pruned = Pruned(**counts)
    if any(counts.values()):
        log.info("history_pruned", **counts)
    return pruned


def pruner(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Periodic:
    """:func:`prune` every ``prune_interval`` seconds, the first time a little after
    start-up."""

    async def work() -> bool:
        await prune(sessionmaker, settings)
        return False

    return Periodic(
        "prune",
        work,
        interval=settings.prune_interval,
        first_delay=min(FIRST_PASS_DELAY, settings.prune_interval),
    )
