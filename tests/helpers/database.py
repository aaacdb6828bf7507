"""The test database: one per backend per run, emptied after each test that wrote to it."""

from __future__ import annotations

from sqlalchemy import delete

from printcloud.server.db.models import Base
from printcloud.server.runtime import Runtime


async def empty_tables(runtime: Runtime) -> None:
    """Delete every row of every table, children first."""
    async with runtime.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
