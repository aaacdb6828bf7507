"""What one prebuilt statement costs through each layer, on the embedded database.

    .venv/bin/python -m bench.statement_cost [--statements 5000]

The same indexed one-row SELECT (an API key's look-up shape) run N times on a fresh
migrated SQLite file, through: the ORM session (``AsyncSession.execute``, what the
repositories use), the session's connection (``AsyncConnection.execute``: Core, no ORM
session), and the raw :mod:`sqlite3` connection under both. The gap between the first
and the last is what "below SQLAlchemy's execution layer" could save per statement;
issue 15's profiles put SQLAlchemy at 40 to 55 % of the job path's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import bindparam, insert, select

from printcloud.server.db.database import Database
from printcloud.server.db.models import Account, table
from printcloud.server.db.types import utcnow

ROUNDS = 3


async def _per_call_us(count: int, call: Callable[[], Awaitable[object]]) -> float:
    """The best of a few rounds: the least disturbed by the machine's other work."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            await call()
        best = min(best, (time.perf_counter() - started) / count * 1e6)
    return best


async def main(count: int) -> None:
    folder = tempfile.mkdtemp(prefix="statement-cost-")
    database = Database.open(f"sqlite+aiosqlite:///{folder}/printcloud.db")
    await database.migrate()
    accounts = table(Account)
    statement = select(accounts.c.id, accounts.c.created_at).where(
        accounts.c.id == bindparam("b_id")
    )
    params = {"b_id": "acc_bench"}
    async with database.sessionmaker() as session:
        await session.execute(insert(accounts), {"id": "acc_bench", "created_at": utcnow()})
        await session.commit()
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection._conn  # type: ignore[union-attr]
        sql = str(statement.compile(dialect=connection.dialect))

        async def orm() -> object:
            return (await session.execute(statement, params)).first()

        async def core() -> object:
            return (await connection.execute(statement, params)).first()

        async def driver() -> object:
            return raw.execute(sql, ("acc_bench",)).fetchone()

        await orm()  # compiled and cached before measuring
        rows = [
            ("AsyncSession.execute (the repositories' way)", await _per_call_us(count, orm)),
            ("AsyncConnection.execute (Core, no ORM session)", await _per_call_us(count, core)),
            ("sqlite3 directly (the driver under both)", await _per_call_us(count, driver)),
        ]
    await database.close()
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| path | µs per statement (best of 3 rounds) |\n|---|---|")
    for label, microseconds in rows:
        print(f"| {label} | {microseconds:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.statement_cost")
    parser.add_argument("--statements", type=int, default=5000)
    asyncio.run(main(parser.parse_args().statements))
