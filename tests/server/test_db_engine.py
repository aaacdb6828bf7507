"""The SQLite engine: one connection on the event loop's thread, shared by queueing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from printcloud.server.db.engine import create_engine, create_sessionmaker


async def test_interleaved_transactions_queue_for_the_connection_and_all_commit(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    sessionmaker = create_sessionmaker(engine)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (task INTEGER, step INTEGER)"))

        async def writer(task: int) -> None:
            async with sessionmaker() as session:
                for step in range(3):
                    await session.execute(
                        text("INSERT INTO t VALUES (:task, :step)"), {"task": task, "step": step}
                    )
                    await asyncio.sleep(0)  # let every other writer try to get in
                if task == 7:
                    await session.rollback()
                else:
                    await session.commit()

        await asyncio.gather(*(writer(task) for task in range(20)))

        async with sessionmaker() as session:
            rows = (await session.execute(text("SELECT task, step FROM t"))).all()
        expected = [(task, step) for task in range(20) if task != 7 for step in range(3)]
        assert sorted(rows) == expected
    finally:
        await engine.dispose()


async def test_a_bad_statement_raises_the_drivers_error_and_the_connection_goes_on(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.connect() as connection:
            with pytest.raises(OperationalError, match="no such table"):
                await connection.execute(text("SELECT * FROM missing"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 41 + 1"))).scalar() == 42
    finally:
        await engine.dispose()
