"""The unit of work: one transaction, committed once, with its effects after it.

Services never commit. The edge that opened the session (a request, a socket
message, a worker's pass) commits it once, and only then are the effects the
services asked for (:mod:`printcloud.server.effects`) run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.server import effects


async def commit(session: AsyncSession) -> None:
    await session.commit()
    await effects.run_committed(session)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            effects.discard(session)
            raise
        await commit(session)
