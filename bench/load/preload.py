"""A large job history written straight into the database, in bulk, before measuring.

Finished jobs (mostly ``completed``, some ``error``) with their state events
(pending, sent, printing, then the end), spread over the bench accounts' printers and
the last 90 days. SQLite gets ``executemany`` through the stdlib driver, PostgreSQL
gets ``COPY`` through asyncpg: the server's own code path would take hours for 10^6.
Each batch commits on its own, so the running server is never locked out for long.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

BATCH = 20_000
JOB_COLUMNS = (
    "seq", "id", "account_id", "printer_id", "computer_id", "printer_name", "title",
    "content_type", "qty", "options", "state", "expires_at", "sent_connection_id",
    "created_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = ("job_seq", "state", "message", "created_at")
CONTENT_COLUMNS = ("job_seq", "content")
PRINTERS_QUERY = "SELECT id, account_id, computer_id, name FROM printers ORDER BY id"


@dataclass
class Batch:
    jobs: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    contents: list[tuple[Any, ...]]


def batches(
    printers: list[tuple[str, str, str, str]], first_seq: int, count: int
) -> Iterator[Batch]:
    """``count`` finished jobs in batches; times are naive UTC, as the server stores them."""
    rng = random.Random(7)
    now = datetime.now(UTC).replace(tzinfo=None)
    options = json.dumps({"copies": 1})
    for start in range(0, count, BATCH):
        batch = Batch([], [], [])
        for seq in range(first_seq + start, first_seq + min(start + BATCH, count)):
            printer_id, account_id, computer_id, name = printers[seq % len(printers)]
            created = now - timedelta(seconds=rng.uniform(60, 90 * 86400))
            final = "error" if rng.random() < 0.02 else "completed"
            ended = created + timedelta(seconds=rng.uniform(1, 30))
            batch.jobs.append(
                (seq, "pj_" + secrets.token_hex(8), account_id, printer_id, computer_id, name,
                 f"Invoice #{seq}", "pdf_uri", 1, options, final, None, None, created, ended)
            )  # fmt: skip
            batch.contents.append((seq, f"https://files.bench.example/{seq}.pdf"))
            steps = (("pending", created), ("sent", created), ("printing", ended), (final, ended))
            for state, at in steps:
                message = "Paper jam" if state == "error" else ""
                batch.events.append((seq, state, message, at))
        yield batch


async def preload(database_url: str, count: int) -> dict[str, Any]:
    """Write ``count`` finished jobs; how long it took and how many rows it wrote."""
    started = time.monotonic()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        rows = await asyncio.to_thread(_preload_sqlite, str(url.database), count)
    else:
        rows = await _preload_postgres(
            url.set(drivername="postgresql").render_as_string(False), count
        )
    seconds = time.monotonic() - started
    return {
        "jobs": count,
        "rows": rows,
        "seconds": round(seconds, 2),
        "jobs_per_s": round(count / seconds) if count else None,
    }


def _iso(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # SQLAlchemy's SQLite DateTime format.
    return tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in row)


def _preload_sqlite(path: str, count: int) -> int:
    db = sqlite3.connect(path, timeout=60)
    try:
        db.execute("PRAGMA busy_timeout=60000")
        printers = db.execute(PRINTERS_QUERY).fetchall()
        first = (db.execute("SELECT coalesce(max(seq), 0) FROM print_jobs").fetchone()[0]) + 1
        rows = 0
        for batch in batches(printers, first, count):
            with db:  # one transaction per batch
                db.executemany(_insert("print_jobs", JOB_COLUMNS), map(_iso, batch.jobs))
                db.executemany(_insert("print_job_contents", CONTENT_COLUMNS), batch.contents)
                db.executemany(_insert("job_state_events", EVENT_COLUMNS), map(_iso, batch.events))
            rows += len(batch.jobs) + len(batch.contents) + len(batch.events)
        db.execute("ANALYZE")
        return rows
    finally:
        db.close()


def _insert(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


async def _preload_postgres(dsn: str, count: int) -> int:
    db = await asyncpg.connect(dsn)
    try:
        printers = [tuple(row) for row in await db.fetch(PRINTERS_QUERY)]
        first = await db.fetchval("SELECT coalesce(max(seq), 0) FROM print_jobs") + 1
        rows = 0
        for batch in batches(printers, first, count):
            async with db.transaction():
                await db.copy_records_to_table(
                    "print_jobs", records=batch.jobs, columns=JOB_COLUMNS
                )
                await db.copy_records_to_table(
                    "print_job_contents", records=batch.contents, columns=CONTENT_COLUMNS
                )
                await db.copy_records_to_table(
                    "job_state_events", records=batch.events, columns=EVENT_COLUMNS
                )
            rows += len(batch.jobs) + len(batch.contents) + len(batch.events)
        # The jobs took their seq by hand: move the sequence past them.
        await db.execute(
            "SELECT setval(pg_get_serial_sequence('print_jobs', 'seq'), "
            "(SELECT max(seq) FROM print_jobs))"
        )
        await db.execute("ANALYZE")
        return rows
    finally:
        await db.close()
