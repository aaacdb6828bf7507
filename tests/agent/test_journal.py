from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from printcloud.agent.journal import CANCELLED, INTERRUPTED, Entry, Handed, Journal
from printcloud.protocol.job_states import JobState


def test_a_job_starts_once_and_its_outcome_is_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    assert journal.start("pj_1") is None  # new: print it
    assert journal.start("pj_1") == Entry(
        "pj_1", JobState.PRINTING, ""
    )  # known: do not print again
    journal.finish("pj_1", JobState.COMPLETED, "Printed on HP")
    assert journal.get("pj_1") == Entry("pj_1", JobState.COMPLETED, "Printed on HP")
    assert journal.start("pj_1") == Entry("pj_1", JobState.COMPLETED, "Printed on HP")
    assert journal.get("pj_2") is None


def test_the_journal_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = Journal(path)
    first.start("pj_done")
    first.finish("pj_done", JobState.ERROR, "Printer offline")
    first.start("pj_midprint")
    first.close()  # as if the agent stopped here, while pj_midprint was printing

    second = Journal(path)
    assert second.get("pj_done") == Entry("pj_done", JobState.ERROR, "Printer offline")
    assert second.interrupted() == ["pj_midprint"]
    assert second.counts() == {JobState.ERROR: 1, JobState.PRINTING: 1}


def test_prune_forgets_old_outcomes_but_never_a_job_in_progress(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.start("pj_old")
    journal.finish("pj_old", JobState.COMPLETED, "ok")
    journal.start("pj_printing")
    assert journal.prune(older_than=timedelta(seconds=-1)) == 1
    assert journal.get("pj_old") is None
    assert journal.get("pj_printing") is not None
    assert "not printed again" in INTERRUPTED


def test_a_cancelled_job_is_finished_unless_it_had_started(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    assert journal.cancel("pj_waiting") is None  # recorded: never to be printed
    assert journal.start("pj_waiting") == Entry("pj_waiting", JobState.ERROR, CANCELLED)

    journal.start("pj_printing")
    assert journal.cancel("pj_printing") == Entry("pj_printing", JobState.PRINTING, "")
    assert journal.get("pj_printing") == Entry("pj_printing", JobState.PRINTING, "")

    journal.start("pj_done")
    journal.finish("pj_done", JobState.COMPLETED, "Printed on HP")
    assert journal.cancel("pj_done") == Entry("pj_done", JobState.COMPLETED, "Printed on HP")


def test_a_job_handed_to_cups_is_not_interrupted_but_followed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = Journal(path)
    first.start("pj_held")
    first.handed_over("pj_held", "cups", "PDFQ", 41, 3)
    first.handed_over("pj_held", "cups", "PDFQ", 42, 3)  # the second of three copies
    first.start("pj_loading")
    first.start("pj_done")
    first.handed_over("pj_done", "cups", "PDFQ", 40)
    first.finish("pj_done", JobState.COMPLETED, "Printed on PDFQ (CUPS job 40)")
    first.handed_over("pj_done", "cups", "PDFQ", 43)  # too late: it is finished
    first.close()  # kill -9

    second = Journal(path)
    assert second.interrupted() == ["pj_loading"]
    assert second.handed() == [Handed("pj_held", "cups", "PDFQ", [41, 42], 3)]
    assert second.get("pj_held") == Entry("pj_held", JobState.PRINTING, "")


def test_a_journal_of_an_older_agent_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, "
        "message TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL)"
    )
    old.execute("INSERT INTO jobs VALUES ('pj_old', 'printing', '', '2026-01-01T00:00:00+00:00')")
    old.commit()
    old.close()

    journal = Journal(path)
    assert journal.interrupted() == ["pj_old"]  # nothing recorded of CUPS: as before
    assert journal.handed() == []
    journal.handed_over("pj_old", "cups", "ZPLQ", 7)
    assert journal.handed() == [Handed("pj_old", "cups", "ZPLQ", [7])]
    journal.close()
    assert Journal(path).handed() == [Handed("pj_old", "cups", "ZPLQ", [7])]  # opened again
