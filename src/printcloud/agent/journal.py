"""The local journal of job ids and outcomes, so that no job is printed twice.

The server sends a job again when it never heard its outcome (the connection
dropped, the agent restarted). The journal, a SQLite file in the agent's data
dir, answers such a job with its recorded outcome instead of printing it again;
a job that was being printed when the agent died is never printed again: if the
printing system (CUPS) had taken it, the journal knows its job ids there and the agent
follows them to their end after a restart; if not, it is reported as an error rather
than reprinted, since part or all of it may be on paper already. A job the server
deleted (``cancel_job``) before it started is recorded as finished, so that it is
not printed if it comes again, or comes late.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from printcloud.protocol.job_states import FINAL_STATES, JobState

INTERRUPTED = (
    "The agent stopped while this job was printing; it was not printed again, to avoid "
    "a duplicate. Check the printer and submit the job again if needed."
)
CANCELLED = "Cancelled: the job was deleted"


@dataclass(frozen=True)
class Entry:
    job_id: str
    state: JobState
    message: str

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class Handed:
    """A job that was printing when the agent stopped, which a printing system had
    taken as its jobs ``printer_jobs`` (in order) on ``printer`` of ``backend``."""

    job_id: str
    backend: str
    printer: str
    printer_jobs: list[int]
    runs: int = 1  # how many printer jobs the document was to take (copies of a PDF job)


# Columns added since the first journals, each with its definition: added to a journal
# that lacks them when it is opened.
_ADDED_COLUMNS = {
    "backend": "TEXT NOT NULL DEFAULT ''",
    "printer": "TEXT NOT NULL DEFAULT ''",
    "printer_jobs": "TEXT NOT NULL DEFAULT ''",  # comma-separated ids, in order
    "printer_runs": "INTEGER NOT NULL DEFAULT 1",
}


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a recorded start must survive a crash
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, "
            "message TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL)"
        )
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for column, definition in _ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {definition}")

    def get(self, job_id: str) -> Entry | None:
        row = self._db.execute(
            "SELECT id, state, message FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return Entry(row[0], JobState(row[1]), row[2]) if row else None

    def start(self, job_id: str) -> Entry | None:
        """Record that printing starts, unless the job is known: then its entry."""
        try:
            self._db.execute(
                "INSERT INTO jobs (id, state, updated_at) VALUES (?, ?, ?)",
                (job_id, JobState.PRINTING, _now()),
            )
        except sqlite3.IntegrityError:
            return self.get(job_id)
        return None

    def cancel(self, job_id: str) -> Entry | None:
        """Record that the job was deleted before it started: finished, ``error``
        CANCELLED, never printed. None when recorded; the job's entry when it was
        known already (printing or finished: left as it is)."""
        try:
            self._db.execute(
                "INSERT INTO jobs (id, state, message, updated_at) VALUES (?, ?, ?, ?)",
                (job_id, JobState.ERROR, CANCELLED, _now()),
            )
        except sqlite3.IntegrityError:
            return self.get(job_id)
        return None

    def finish(self, job_id: str, state: JobState, message: str) -> None:
        assert state in (JobState.COMPLETED, JobState.ERROR)
        self._db.execute(
            "UPDATE jobs SET state = ?, message = ?, updated_at = ? WHERE id = ?",
            (state, message, _now(), job_id),
        )

    def handed_over(
        self, job_id: str, backend: str, printer: str, printer_job: int, runs: int = 1
    ) -> None:
        """Record that ``printer`` of ``backend`` took the job (one of its runs) as its job
        ``printer_job``: written before anything else happens, so that a crash from now
        on leaves a job to follow, not a guess."""
        self._db.execute(
            "UPDATE jobs SET backend = ?, printer = ?, printer_runs = ?, updated_at = ?, "
            "printer_jobs = "
            "CASE printer_jobs WHEN '' THEN ? ELSE printer_jobs || ',' || ? END "
            "WHERE id = ? AND state = ?",
            (
                backend,
                printer,
                runs,
                _now(),
                str(printer_job),
                str(printer_job),
                job_id,
                JobState.PRINTING,
            ),
        )

    def interrupted(self) -> list[str]:
        """Jobs whose printing began but never ended, and that no printing system had
        taken: the agent died meanwhile."""
        return [
            row[0]
            for row in self._db.execute(
                "SELECT id FROM jobs WHERE state = ? AND printer_jobs = '' ORDER BY updated_at",
                (JobState.PRINTING,),
            )
        ]

    def handed(self) -> list[Handed]:
        """Jobs whose printing began but never ended, that a printing system had taken:
        they may print still, or have printed."""
        return [
            Handed(row[0], row[1], row[2], [int(i) for i in row[3].split(",")], row[4])
            for row in self._db.execute(
                "SELECT id, backend, printer, printer_jobs, printer_runs FROM jobs "
                "WHERE state = ? AND printer_jobs != '' ORDER BY updated_at",
                (JobState.PRINTING,),
            )
        ]

    def prune(self, older_than: timedelta = timedelta(days=30)) -> int:
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        return self._db.execute(
            "DELETE FROM jobs WHERE updated_at < ? AND state != ?", (cutoff, JobState.PRINTING)
        ).rowcount

    def counts(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state"))

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()
