"""The integer numbers the PrintNode API gives our objects: stable, in the order the
objects were made, the same when two requests give them at once."""

from __future__ import annotations

import asyncio

from printcloud.server.printnode import repository
from printcloud.server.printnode.repository import Page
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount

EVERYTHING = Page(limit=100, after=None, descending=False)


async def numbered(runtime: Runtime, account: TestAccount) -> list[tuple[int, str]]:
    """Number the account's objects in a request of its own; its computers' numbers."""
    async with runtime.sessionmaker() as session:
        await repository.number_everything(session, account.account_id)
        found = await repository.computers(session, account.account_id, None, EVERYTHING)
        await session.commit()
    return [(c.number, c.computer.name) for c in found]


async def test_two_requests_numbering_at_once_agree(runtime: Runtime, account: TestAccount) -> None:
    for name in ("First", "Second", "Third"):
        await account.add_computer(runtime, name, (f"{name} printer",))

    one, other = await asyncio.gather(numbered(runtime, account), numbered(runtime, account))

    assert one == other
    assert [name for _, name in one] == ["First", "Second", "Third"]
    numbers = [number for number, _ in one]
    assert numbers == sorted(numbers)


async def test_a_new_computer_gets_the_next_number_and_the_others_keep_theirs(
    runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "First", ("A",))
    before = await numbered(runtime, account)

    await account.add_computer(runtime, "Second", ("B",))
    after = await numbered(runtime, account)

    assert after[0] == before[0]
    assert after[1][0] > before[0][0]
