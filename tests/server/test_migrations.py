from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from printcloud.server.db.migrate import upgrade
from printcloud.server.db.models import Base
from printcloud.server.runtime import Runtime


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_upgrading_again_is_harmless(runtime: Runtime) -> None:
    await upgrade(runtime.engine)
    await upgrade(runtime.engine)
