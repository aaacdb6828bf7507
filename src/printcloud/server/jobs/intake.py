"""New print jobs, group-committed (:mod:`printcloud.server.db.group_commit`).

The jobs that arrive together are written in one transaction, with a few executemany
statements for the whole batch (:func:`service.create_jobs`), and each request hears
its job's id once that is committed: a 201 still means committed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.server.db.group_commit import MAX_BATCH, GroupCommit
from printcloud.server.jobs import service
from printcloud.server.jobs.service import CheckedJob

NewJob = tuple[str, CheckedJob]  # the account's id, the job


class Intake:
    """Accepts checked jobs; each :meth:`submit` answers once its job is committed."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], max_batch: int = MAX_BATCH
    ) -> None:
        self._jobs: GroupCommit[NewJob, str] = GroupCommit(
            "intake", sessionmaker, service.create_jobs, max_batch
        )

    async def submit(self, account_id: str, checked: CheckedJob) -> str:
        """The new job's id, once it is committed; or the error that refused it
        (:class:`NotFound` for a printer not in the account)."""
        return await self._jobs.submit((account_id, checked))
