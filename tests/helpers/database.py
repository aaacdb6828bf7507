"""The test database: one per backend per run, emptied after each test that wrote to it."""

from __future__ import annotations

from sqlalchemy import delete

from printcloud.server.db.database import Database
from printcloud.server.db.models import Base


async def empty_tables(database: Database) -> None:
    """Delete every row of every table, children first."""
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
