"""The database a process works with: its engine and the sessions made on it.

Standing apart from the runtime, so that migrations, ``printcloud users create`` and
tests can open the database without starting what a server runs (Redis clients,
workers, the agents' dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from printcloud.server.availability import Availability
from printcloud.server.db import outage
from printcloud.server.db.engine import create_engine, create_sessionmaker
from printcloud.server.db.migrate import upgrade


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Whether PostgreSQL answered last time (SQLite is always there).
    availability: Availability = field(
        default_factory=lambda: Availability(
            "database", "requests are answered 503", client="queries"
        )
    )

    @classmethod
    def open(cls, url: str) -> Database:
        """Nothing connects yet: the first session does."""
        engine = create_engine(url)
        database = cls(engine, create_sessionmaker(engine))
        outage.watch(engine, database.availability)
        outage.count_errors(engine)
        return database

    async def migrate(self) -> None:
        """Apply the migrations that ship with the package (instances take turns)."""
        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
