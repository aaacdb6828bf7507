from __future__ import annotations

import pytest

from printcloud.protocol.job_states import FINAL_STATES, TRANSITIONS, JobState, next_state

ORDER = [JobState.PENDING, JobState.SENT, JobState.PRINTING, JobState.COMPLETED]


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(JobState)


@pytest.mark.parametrize("current", list(JobState))
@pytest.mark.parametrize("reported", list(JobState))
def test_the_whole_table(current: JobState, reported: JobState) -> None:
    moved = next_state(current, reported)
    if current in FINAL_STATES or reported == current:
        assert moved is None  # final states never move; a repeat changes nothing
    elif reported in (JobState.PENDING,):
        assert moved is None  # nothing goes back to pending
    elif current == JobState.PRINTING and reported == JobState.SENT:
        assert moved is None  # a late "sent" changes nothing
    elif current != JobState.PENDING and reported == JobState.EXPIRED:
        assert moved is None  # only a job still waiting expires: a sent one may be printed
    else:
        assert moved == reported


def test_the_normal_path_moves_forward_only() -> None:
    state = JobState.PENDING
    for reported in ORDER[1:]:
        moved = next_state(state, reported)
        assert moved == reported
        state = moved
    for earlier in ORDER:
        assert next_state(state, earlier) is None
