"""The WAL checkpoints of the embedded database, run beside the event loop."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from printcloud.server.db.checkpointer import WalCheckpointer


def test_a_pass_copies_the_wal_into_the_database_while_the_writer_holds_its_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "printcloud.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies
    writer.execute("CREATE TABLE jobs (seq INTEGER PRIMARY KEY, title TEXT)")
    writer.executemany("INSERT INTO jobs (title) VALUES (?)", [("x" * 500,)] * 200)
    writer.commit()
    size_before = path.stat().st_size  # the rows are in the WAL only

    checkpointer = WalCheckpointer(path)
    assert checkpointer.checkpoint()

    assert path.stat().st_size > size_before + 200 * 500
    assert sqlite3.connect(path).execute("SELECT count(*) FROM jobs").fetchone() == (200,)


def test_nothing_is_made_before_the_server_makes_its_database(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "later.db")
    assert not checkpointer.checkpoint()
    assert not (tmp_path / "later.db").exists()


def test_only_a_sqlite_file_has_a_checkpointer(tmp_path: Path) -> None:
    assert WalCheckpointer.for_url(f"sqlite+aiosqlite:///{tmp_path}/a.db") is not None
    assert WalCheckpointer.for_url("sqlite+aiosqlite:///:memory:") is None
    assert WalCheckpointer.for_url("postgresql+asyncpg://127.0.0.1/test") is None


def test_the_thread_starts_and_stops(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "a.db", interval=0.01)
    checkpointer.start()
    checkpointer.stop()  # joins: a thread that did not stop would hang here
