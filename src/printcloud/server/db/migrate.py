"""Apply the Alembic migrations that ship inside the package."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

# An arbitrary constant: instances of a cluster starting together take turns.
_PG_MIGRATION_LOCK = 7_310_422_198


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "printcloud.server.db:migrations")
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


@cache
def head_revisions() -> frozenset[str]:
    """The revisions this code expects the database at (read from the package once)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def applied_revisions(session: AsyncSession) -> frozenset[str]:
    """The revisions the database is at: a trivial query, one row."""
    rows = await session.scalars(text("SELECT version_num FROM alembic_version"))
    return frozenset(rows.all())
