"""PostgreSQL down, restarting or refusing connections, told apart from our own errors.

The driver says "connection refused" with an ``OSError`` straight from the socket,
and a dropped connection with a DBAPI error; neither says "database" to the code
that catches it, and caught as any other exception it would be a 500 with a stack
trace. Here the engine turns both into :class:`DatabaseUnavailable` where they
happen, so that every edge (the API, the agents' socket, the workers) answers 503,
closes 1013 or retries, and the log says once that the database went, once that it
is back. SQLite's own I/O errors are left as they are: a file that fails is not a
neighbour restarting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from printcloud.server import metrics
from printcloud.server.availability import Availability, DependencyUnavailable

# SQLSTATEs of a server that is not taking work: class 08 (connection exception), an
# administrator's or a crash's shutdown, "the database system is starting up" or
# "... shutting down", and no connection slot left.
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


class DatabaseUnavailable(DependencyUnavailable):
    def __init__(self, detail: str) -> None:
        super().__init__("database", detail)


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, OSError):  # refused, reset, unreachable, timed out
        return True
    state = str(getattr(error, "sqlstate", "") or "")
    return state.startswith("08") or state in _UNAVAILABLE_STATES


def watch(engine: AsyncEngine, availability: Availability) -> None:
    """Make ``engine`` raise :class:`DatabaseUnavailable` for an unreachable server,
    and keep ``availability`` up to date (one log line each way)."""
    if engine.dialect.name == "sqlite":
        return
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if not _unavailable(exc):
                raise
            availability.down(exc)
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc

    @event.listens_for(sync_engine, "connect")
    def connected(_connection: Any, _record: Any) -> None:
        availability.up()

    @event.listens_for(sync_engine, "handle_error")
    def failed(context: ExceptionContext) -> BaseException | None:
        # A failed pre-ping only makes the pool connect again: that connection tells. A
        # cancellation (a worker stopping) drops its connection too, and must stay one.
        error = context.original_exception
        if context.is_pre_ping or not isinstance(error, Exception):
            return None
        if not (context.is_disconnect or _unavailable(error)):
            return None
        availability.down(error)
        return DatabaseUnavailable(str(error) or type(error).__name__)


def count_errors(engine: AsyncEngine) -> None:
    """Count every error the driver raises, on any database, by kind (the operator's
    ``printcloud_database_errors_total``): a constraint is often a race the code
    resolves, but a rising count of the others is worth a look."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def counted(context: ExceptionContext) -> None:
        error = context.original_exception
        if context.is_pre_ping or not isinstance(error, Exception):
            return
        if context.is_disconnect or _unavailable(error):
            kind = "unavailable"
        elif isinstance(context.sqlalchemy_exception, IntegrityError):
            kind = "integrity"
        else:
            kind = "other"
        metrics.DATABASE_ERRORS_BY_KIND[kind].inc()
