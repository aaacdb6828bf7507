"""Effects run after the commit that asked for them, and never after a rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from printcloud.server import effects
from printcloud.server.db.database import Database
from printcloud.server.db.uow import unit_of_work
from tests.helpers.effects import RecordingSink


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'effects.db'}")
    yield database
    await database.close()


async def test_effects_run_once_the_unit_of_work_commits_each_once_in_order(
    database: Database,
) -> None:
    sink = RecordingSink()
    effects.bind(database.sessionmaker, sink)
    async with unit_of_work(database.sessionmaker) as session:
        await session.execute(text("SELECT 1"))
        effects.wake_computer(session, "cmp_b")
        effects.wake_computer(session, "cmp_a")
        effects.wake_computer(session, "cmp_b")  # many jobs of one computer: one wake-up
        effects.wake_computer(session, None)  # a job whose printer has no computer
        effects.webhooks_due(session)
        effects.webhooks_due(session)
        effects.computer_removed(session, "cmp_c")
        assert sink.calls == []  # nothing before the commit
    assert sink.calls == [
        ("removed", ["cmp_c"]),
        ("wake", ["cmp_b", "cmp_a"]),
        ("webhooks", []),
    ]


async def test_a_unit_of_work_that_fails_runs_none_of_its_effects(database: Database) -> None:
    sink = RecordingSink()
    effects.bind(database.sessionmaker, sink)

    async def refused() -> None:
        async with unit_of_work(database.sessionmaker) as session:
            effects.wake_computer(session, "cmp_a")
            raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await refused()
    async with unit_of_work(database.sessionmaker) as session:
        effects.webhooks_due(session)
    assert sink.calls == [("webhooks", [])]  # the failed one's wake-up is not carried over


async def test_discarded_effects_do_not_run(database: Database) -> None:
    sink = RecordingSink()
    effects.bind(database.sessionmaker, sink)
    async with unit_of_work(database.sessionmaker) as session:
        effects.wake_computer(session, "cmp_rolled_back")
        await session.rollback()
        effects.discard(session)
        effects.wake_computer(session, "cmp_kept")
    assert sink.calls == [("wake", ["cmp_kept"])]


async def test_a_failing_effect_does_not_keep_the_others_from_running(database: Database) -> None:
    sink = RecordingSink(failing="removed")
    effects.bind(database.sessionmaker, sink)
    async with unit_of_work(database.sessionmaker) as session:
        effects.computer_removed(session, "cmp_c")
        effects.wake_computer(session, "cmp_a")
    # the commit stands and the next effect ran; the failure is logged, not raised
    assert sink.calls == [("removed", ["cmp_c"]), ("wake", ["cmp_a"])]


async def test_sessions_without_a_sink_commit_and_drop_their_effects(database: Database) -> None:
    async with unit_of_work(database.sessionmaker) as session:
        await session.execute(text("CREATE TABLE kept (id INTEGER)"))
        effects.wake_computer(session, "cmp_a")
    async with database.sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM kept"))).scalar_one() == 0
        assert "printcloud.effects.pending" not in session.info
