"""The unit of work: one transaction, committed once, with side effects after it.

A wake-up on the bus or a message on a socket must never announce what may
still roll back, so such work is registered with ``after_commit`` and run only
once the commit succeeded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_KEY = "printcloud.after_commit"


def after_commit(session: AsyncSession, effect: AfterCommit) -> None:
    """Run ``effect`` once the session commits; an equal effect already registered is
    not added again (one wake-up for many changes of one transaction)."""
    effects = session.info.setdefault(_KEY, [])
    if effect not in effects:
        effects.append(effect)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    effects: list[AfterCommit] = session.info.pop(_KEY, [])
    for effect in effects:
        try:
            await effect()
        except Exception:
            log.exception("after_commit_failed")


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            session.info.pop(_KEY, None)
            raise
        await commit(session)
