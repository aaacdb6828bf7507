"""The print job lifecycle, as data: every allowed move is in ``TRANSITIONS``.

``pending → sent → printing → completed | error``, plus ``expired`` for a job
that waited past its expiry. States only move forward. A report that would move
a job backwards, or repeats its state, is accepted and changes nothing: an agent
that reconnects may well report a job twice.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PRINTING = "printing"
    COMPLETED = "completed"
    ERROR = "error"
    EXPIRED = "expired"


FINAL_STATES = frozenset({JobState.COMPLETED, JobState.ERROR, JobState.EXPIRED})
# The job is the client's until it has an outcome: sent again after a lost connection.
UNFINISHED_STATES = frozenset(JobState) - FINAL_STATES
# What an agent may report in ``job_state``; the server decides the rest.
AGENT_REPORTS = (JobState.PRINTING, JobState.COMPLETED, JobState.ERROR)
# [ext] Reported again with another message, this state is not a move but news: the
# printer is out of paper, CUPS is not answering... The message is added to the history.
RESTATED = frozenset({JobState.PRINTING})

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset(
        {JobState.SENT, JobState.PRINTING, JobState.COMPLETED, JobState.ERROR, JobState.EXPIRED}
    ),
    # Only a job still waiting expires: one that was sent may have been printed.
    JobState.SENT: frozenset({JobState.PRINTING, JobState.COMPLETED, JobState.ERROR}),
    JobState.PRINTING: frozenset({JobState.COMPLETED, JobState.ERROR}),
    JobState.COMPLETED: frozenset(),
    JobState.ERROR: frozenset(),
    JobState.EXPIRED: frozenset(),
}


def next_state(current: JobState, reported: JobState) -> JobState | None:
    """The state a job moves to when ``reported`` arrives, or None when nothing changes."""
    return reported if reported in TRANSITIONS[current] else None
