"""Units of work that arrive together share one transaction, and none fails another."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import effects
from printcloud.server.db.group_commit import Transactions
from printcloud.server.db.models import Computer
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount


def _renamer(computer_id: str, name: str) -> Any:
    async def rename(session: AsyncSession) -> str:
        await session.execute(update(Computer).where(Computer.id == computer_id).values(name=name))
        return name

    return rename


async def _names(runtime: Runtime, ids: list[str]) -> list[str]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(select(Computer.id, Computer.name).where(Computer.id.in_(ids)))
        by_id: dict[str, str] = {row[0]: row[1] for row in rows}
        return [by_id[i] for i in ids]


async def test_works_submitted_together_share_one_commit_and_each_gets_its_answer(
    runtime: Runtime, account: TestAccount
) -> None:
    computers = [
        (await account.add_computer(runtime, name=f"PC-{n}", printers=())).id for n in range(10)
    ]
    commits: list[None] = []
    event.listen(runtime.engine.sync_engine, "commit", lambda _c: commits.append(None))
    transactions = Transactions(runtime.sessionmaker)

    answers = await asyncio.gather(
        *(transactions.run(_renamer(cid, f"renamed-{n}")) for n, cid in enumerate(computers))
    )

    assert answers == [f"renamed-{n}" for n in range(10)]
    assert await _names(runtime, computers) == answers
    assert len(commits) == 1


async def test_a_failing_work_fails_alone_and_the_others_are_committed(
    runtime: Runtime, account: TestAccount
) -> None:
    computers = [
        (await account.add_computer(runtime, name=f"PC-{n}", printers=())).id for n in range(3)
    ]

    async def broken(session: AsyncSession) -> None:
        await session.execute(update(Computer).where(Computer.id == computers[1]).values(name="x"))
        raise RuntimeError("refused")

    transactions = Transactions(runtime.sessionmaker)
    answers = await asyncio.gather(
        transactions.run(_renamer(computers[0], "a")),
        transactions.run(broken),
        transactions.run(_renamer(computers[2], "c")),
        return_exceptions=True,
    )

    assert answers[0] == "a"
    assert isinstance(answers[1], RuntimeError)
    assert answers[2] == "c"
    # The broken work's own write was rolled back with it.
    assert await _names(runtime, computers) == ["a", "PC-1", "c"]


async def test_the_effects_of_a_batch_run_after_its_commit(
    runtime: Runtime, account: TestAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    computer = await account.add_computer(runtime, name="PC", printers=())
    woken: list[str] = []

    async def wake(computer_id: str) -> None:
        # Run after the commit: another session already reads the new name.
        assert await _names(runtime, [computer_id]) == ["after"]
        woken.append(computer_id)

    monkeypatch.setattr(runtime.dispatcher, "wake", wake)

    async def rename_and_wake(session: AsyncSession) -> None:
        await _renamer(computer.id, "after")(session)
        effects.wake_computer(session, computer.id)

    await Transactions(runtime.sessionmaker).run(rename_and_wake)
    assert woken == [computer.id]
