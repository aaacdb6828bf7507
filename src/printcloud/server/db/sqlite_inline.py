"""SQLite for the async engine, run on the event loop's own thread.

SQLAlchemy's ``sqlite+aiosqlite`` driver sends every cursor call to a worker thread
and back: about 250 µs a statement here, against 15 µs for the same statement
called directly, and a print job takes some forty statements from POST to
``completed``. SQLite answers from the page cache in microseconds and the embedded
server has one connection (see ``engine.py``), so the thread buys nothing but the
hops. This module is an aiosqlite look-alike whose coroutines call :mod:`sqlite3`
directly, plugged into SQLAlchemy's own aiosqlite dialect; SQLAlchemy sees the same
driver API and nothing else changes.

The price: a statement blocks the event loop while it runs, so nothing here may
wait long — the busy timeout is short, and the server never holds SQLite's write
lock from another process for long (``printcloud users create`` is a single
short transaction).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER = "printcloud_inline"

__version__ = sqlite3.sqlite_version
sqlite_version = sqlite3.sqlite_version
sqlite_version_info = sqlite3.sqlite_version_info
DatabaseError = sqlite3.DatabaseError
Error = sqlite3.Error
IntegrityError = sqlite3.IntegrityError
NotSupportedError = sqlite3.NotSupportedError
OperationalError = sqlite3.OperationalError
ProgrammingError = sqlite3.ProgrammingError


class Cursor:
    """aiosqlite's cursor API over a :class:`sqlite3.Cursor`, without the thread."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _InlineQueue:
    """SQLAlchemy sets the isolation level through aiosqlite's private work queue."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:  # noqa: BLE001 - handed to the waiting caller, as aiosqlite does
            future.set_exception(exc)
        else:
            future.set_result(result)


class Connection:
    """aiosqlite's connection API over a :class:`sqlite3.Connection`."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._connection: sqlite3.Connection | None = None
        # SQLAlchemy marks aiosqlite's worker thread as a daemon; there is none here.
        self._thread = SimpleNamespace(daemon=True)
        self._tx = _InlineQueue(self)

    def __await__(self) -> Generator[Any, None, Connection]:
        self._connection = self._connect()
        return self
        yield  # pragma: no cover - makes this a generator, as __await__ must be

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        # aiosqlite answers an awaitable context manager; SQLAlchemy enters it.
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connect(database: str, **kwargs: Any) -> Connection:
    kwargs.setdefault("check_same_thread", False)
    return Connection(lambda: sqlite3.connect(database, **kwargs))


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return AsyncAdapt_aiosqlite_dbapi(__import__(__name__, fromlist=["connect"]), sqlite3)


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")
