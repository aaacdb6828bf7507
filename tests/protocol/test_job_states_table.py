"""The job lifecycle spelled out in the wire's words, independently of the table in
``job_states.py``: a state added, removed or renamed, or a move allowed or forbidden,
changes what every agent and client sees, so it has to change here as well."""

from __future__ import annotations

import pytest

from printcloud.protocol.job_states import (
    AGENT_REPORTS,
    FINAL_STATES,
    TRANSITIONS,
    UNFINISHED_STATES,
    JobState,
    next_state,
)

LIFECYCLE = {
    "pending": {"sent", "printing", "completed", "error", "expired"},
    "sent": {"printing", "completed", "error"},
    "printing": {"completed", "error"},
    "completed": set(),
    "error": set(),
    "expired": set(),
}


def test_the_states_are_the_wires_words() -> None:
    assert [s.value for s in JobState] == [
        "pending",
        "sent",
        "printing",
        "completed",
        "error",
        "expired",
    ]


def test_finished_unfinished_and_reportable_states() -> None:
    assert {s.value for s in FINAL_STATES} == {"completed", "error", "expired"}
    assert {s.value for s in UNFINISHED_STATES} == {"pending", "sent", "printing"}
    assert [s.value for s in AGENT_REPORTS] == ["printing", "completed", "error"]


def test_the_table_is_the_lifecycle() -> None:
    assert {s.value: {t.value for t in moves} for s, moves in TRANSITIONS.items()} == LIFECYCLE


@pytest.mark.parametrize("current", sorted(LIFECYCLE))
@pytest.mark.parametrize("reported", sorted(LIFECYCLE))
def test_a_report_moves_a_job_only_where_the_lifecycle_allows(current: str, reported: str) -> None:
    expected = JobState(reported) if reported in LIFECYCLE[current] else None
    assert next_state(JobState(current), JobState(reported)) is expected
