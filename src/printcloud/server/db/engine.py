"""The async engine and sessions, tuned per database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from printcloud.server.db import sqlite_inline

# How long a statement waits for another process's write lock (``printcloud users
# create``, a second server on the same file by mistake); it blocks the event loop.
_SQLITE_BUSY_TIMEOUT = 5.0
# A PostgreSQL that does not answer a connection within this is down (asyncpg waits a
# minute by default, and every request would wait with it).
_PG_CONNECT_TIMEOUT = 5.0


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One connection, on the event loop's thread (sqlite_inline.py): SQLite takes
        # one writer at a time anyway, and a second connection of this process waiting
        # for the first one's lock would wait for a coroutine that cannot run. Sessions
        # queue for the connection instead, in the pool.
        engine = create_async_engine(
            parsed.set(drivername=f"sqlite+{sqlite_inline.DRIVER}"),
            connect_args={"timeout": _SQLITE_BUSY_TIMEOUT},
            pool_size=1,
            max_overflow=0,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"timeout": _PG_CONNECT_TIMEOUT}
        if parsed.get_driver_name() == "asyncpg"
        else {},
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer commits; foreign keys are off by default
    # in SQLite, and without them ON DELETE clauses do nothing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_TIMEOUT * 1000)}")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
