"""SQLite's WAL checkpoints, run in a thread of their own.

In WAL mode a commit appends pages to the ``-wal`` file, and every 1,000 pages the
committing connection copies them back into the database file (a checkpoint, with its
fsync). The embedded server's one connection runs on the event loop
(``sqlite_inline.py``), so that copy ran there too, in whichever request's commit
crossed the line: measured here, a commit of a small batch took 168 µs with the
checkpoints and 75 µs without. This thread checkpoints from a second connection every
``interval`` seconds instead; :mod:`sqlite3` lets go of the GIL while SQLite works, so
the copy and its fsync run beside the event loop, on another core when there is one.

A PASSIVE checkpoint never waits for the writer, and the writer never waits for it. The
main connection keeps SQLite's automatic checkpoint as the backstop: should this thread
fall behind or die, the WAL is still bounded as before.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)

INTERVAL = 0.25


class WalCheckpointer:
    @classmethod
    def for_url(cls, url: str) -> WalCheckpointer | None:
        """One for a SQLite database in a file; None for any other database."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        return cls(Path(parsed.database))

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self._path = path
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def checkpoint(self) -> bool:
        """One pass: copy what the WAL holds into the database file, as far as SQLite
        can without waiting. False when there is no database file yet."""
        if self._connection is None:
            if not self._path.exists():  # not made yet: the server makes it
                return False
            self._connection = sqlite3.connect(self._path, check_same_thread=False)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return True

    def _run(self) -> None:
        try:
            while not self._stopping.wait(self._interval):
                try:
                    self.checkpoint()
                except sqlite3.Error as exc:
                    # Busy or locked now and then (another process's checkpoint): the
                    # next pass, or the writer's own automatic checkpoint, catches up.
                    log.debug("wal_checkpoint_failed", error=str(exc))
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
