"""Work that follows a commit: what the services ask for, and nothing else runs it.

A wake-up on the bus, the close of a removed computer's socket, a nudge to the
webhook worker: each announces a change, so none may run before the change is
committed, nor at all if it rolls back (polar's ``enqueue_job``). A service asks
with one of the functions below, on its session; the unit of work
(:mod:`printcloud.server.db.uow`) runs what was asked once its commit succeeded,
through the :class:`EffectSink` the process bound to its sessions. A session with
no sink (migrations, ``printcloud users create``, a test's bare database) commits
as usual and its effects are dropped: every one of them is a hint that a periodic
sweep or poll makes good anyway. The operator's metrics (:func:`measure`) are recorded
after any commit, sink or not: they count what was committed, not hints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

_PENDING = "printcloud.effects.pending"
_SINK = "printcloud.effects.sink"


class EffectSink(Protocol):
    """What a server process does with the effects of a committed transaction."""

    async def wake_computers(self, computer_ids: list[str]) -> None:
        """These computers have jobs to be sent: tell whichever instance holds them."""

    async def computers_removed(self, computer_ids: list[str]) -> None:
        """These computers were deleted: close their connections, wherever they are."""

    async def webhooks_due(self) -> None:
        """New webhook deliveries were committed: deliver now, not at the next poll."""

    async def jobs_cancelled(self, computer_id: str, job_ids: list[str]) -> None:
        """Jobs already sent to this computer were deleted: tell its agent."""

    async def key_revoked(self, key_id: str) -> None:
        """An API key was revoked: close every connection it authenticated."""


@dataclass
class _Pending:
    # Ordered and without repeats: one wake-up for many jobs of a computer.
    wake: dict[str, None] = field(default_factory=dict)
    removed: dict[str, None] = field(default_factory=dict)
    cancelled: dict[str, dict[str, None]] = field(default_factory=dict)
    revoked: dict[str, None] = field(default_factory=dict)
    webhooks: bool = False
    # The operator's metrics: (a counter's ``inc`` or a histogram's ``observe``, value).
    measures: list[tuple[Callable[[float], None], float]] = field(default_factory=list)


def bind(sessionmaker: async_sessionmaker[AsyncSession], sink: EffectSink) -> None:
    """Every session made from now on runs its effects through ``sink``."""
    sessionmaker.configure(info={_SINK: sink})


def _pending(session: AsyncSession) -> _Pending:
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    return pending


def wake_computer(session: AsyncSession, computer_id: str | None) -> None:
    """After the commit, the computer's connection sends what it has waiting."""
    if computer_id is not None:
        _pending(session).wake[computer_id] = None


def computer_removed(session: AsyncSession, computer_id: str) -> None:
    """After the commit, the removed computer's connection is closed."""
    _pending(session).removed[computer_id] = None


def job_cancelled(session: AsyncSession, computer_id: str, job_id: str) -> None:
    """After the commit, the computer's agent hears that the job it was sent is deleted."""
    _pending(session).cancelled.setdefault(computer_id, {})[job_id] = None


def key_revoked(session: AsyncSession, key_id: str) -> None:
    """After the commit, every connection the key authenticated is closed."""
    _pending(session).revoked[key_id] = None


def webhooks_due(session: AsyncSession) -> None:
    """After the commit, the webhook worker looks for deliveries at once."""
    _pending(session).webhooks = True


def measure(session: AsyncSession, record: Callable[[float], None], value: float = 1.0) -> None:
    """After the commit, ``record(value)``: a metric counts what was committed, once
    (a group commit's batch that rolls back is written again item by item)."""
    _pending(session).measures.append((record, value))


def discard(session: AsyncSession) -> None:
    """Forget what was asked: the transaction that asked for it was rolled back."""
    session.info.pop(_PENDING, None)


async def run_committed(session: AsyncSession) -> None:
    """Run what the just-committed transaction asked for. A failing effect is logged,
    never raised: the change is committed, and the sweep makes a lost hint good."""
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    # Whatever the process: a count is not a hint for a server's workers. Nor may a
    # count that fails fail what is committed: logged, as an effect that fails.
    for record, value in pending.measures:
        try:
            record(value)
        except Exception:
            log.exception("after_commit_failed", effect="measure")
    sink: EffectSink | None = session.info.get(_SINK)
    if sink is None:
        return
    # Each on its own: one that fails must not keep the others from running.
    for key_id in pending.revoked:
        await _run("key_revoked", sink.key_revoked(key_id))
    if pending.removed:
        await _run("computers_removed", sink.computers_removed(list(pending.removed)))
    for computer_id, job_ids in pending.cancelled.items():
        await _run("jobs_cancelled", sink.jobs_cancelled(computer_id, list(job_ids)))
    if pending.wake:
        await _run("wake_computers", sink.wake_computers(list(pending.wake)))
    if pending.webhooks:
        await _run("webhooks_due", sink.webhooks_due())


async def _run(name: str, effect: Awaitable[None]) -> None:
    try:
        await effect
    except Exception:
        log.exception("after_commit_failed", effect=name)
