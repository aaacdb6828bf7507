"""Group commit for new print jobs: the jobs that arrive together share one transaction.

Every ``POST /api/printjobs`` used to be its own transaction: its own session, a few
statements, its own commit. Under load, most of a job's cost was that per-transaction
machinery, not the rows. Here each request puts its checked job in a queue and waits;
one writer takes everything queued, writes it in one transaction (a few executemany
statements for the whole batch, :func:`service.create_jobs`) and commits once, and only
then does each waiting request hear its job's id. A 201 still means committed.

Nothing waits to fill a batch: the writer starts as soon as the first job is queued, and
what arrives while it writes makes up the next batch. At low load a batch is one job;
under load batches grow by themselves, and so does the saving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import service
from printcloud.server.jobs.service import CheckedJob

log = structlog.get_logger(__name__)

MAX_BATCH = 256


@dataclass
class _Waiting:
    account_id: str
    checked: CheckedJob
    answer: asyncio.Future[str]


class Intake:
    """Accepts checked jobs; each :meth:`submit` answers once its job is committed."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], max_batch: int = MAX_BATCH
    ) -> None:
        self._sessionmaker = sessionmaker
        self._max_batch = max_batch
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, account_id: str, checked: CheckedJob) -> str:
        """The new job's id, once it is committed; or the error that refused it
        (:class:`NotFound` for a printer not in the account)."""
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(account_id, checked, answer))
        if self._writer is None:
            # A task, not the caller: a caller that goes away (its client hung up) must
            # not take the other jobs of its batch with it.
            self._writer = asyncio.create_task(self._write_queued(), name="intake")
        return await answer

    async def _write_queued(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._write(batch)
        finally:
            self._writer = None
            # Only when the writer itself was cancelled (the process stopping): nobody
            # may wait for ever for an answer that will not come.
            for waiting in [*batch, *self._queue]:
                _answer(waiting, asyncio.CancelledError("the server is stopping"))
            self._queue.clear()

    async def _write(self, batch: Sequence[_Waiting]) -> None:
        try:
            async with unit_of_work(self._sessionmaker) as session:
                created = await service.create_jobs(
                    session, [(w.account_id, w.checked) for w in batch]
                )
        except Exception as exc:  # noqa: BLE001 - each job's request hears it
            if len(batch) > 1:
                # Whatever failed the batch (a constraint, the database going away), the
                # jobs that were not its cause must not fail with it: each alone.
                log.warning("intake_batch_failed", jobs=len(batch), error=repr(exc))
                for waiting in batch:
                    await self._write([waiting])
                return
            _answer(batch[0], exc)
            return
        for waiting, job in zip(batch, created, strict=True):
            _answer(waiting, job)


def _answer(waiting: _Waiting, outcome: str | BaseException) -> None:
    if waiting.answer.done():  # its request was cancelled; the job stands, committed
        return
    if isinstance(outcome, str):
        waiting.answer.set_result(outcome)
    else:
        waiting.answer.set_exception(outcome)
