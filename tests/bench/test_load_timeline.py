"""The restart measurements' arithmetic: the series and the offline gaps."""

from __future__ import annotations

import pytest
from bench.load.timeline import cumulative, first_after, offline_gaps, percentile

S = 1_000_000_000  # nanoseconds


def test_cumulative_counts_events_by_seconds_after_the_origin() -> None:
    origin = 100 * S
    assert cumulative([origin + 2 * S, origin + S // 2, origin + S], origin) == [
        [0.0, 0], [0.5, 1], [1.0, 2], [2.0, 3],
    ]  # fmt: skip
    assert cumulative([], origin) == [[0.0, 0]]


def test_cumulative_thins_to_evenly_spaced_counts_and_keeps_the_last() -> None:
    rows = cumulative([i * S // 100 for i in range(1000)], 0, points=10)
    assert [count for _, count in rows] == [0, *range(100, 1001, 100)]
    assert rows[1] == [0.99, 100]
    assert rows[-1] == [9.99, 1000]


def test_first_after_takes_each_agents_first_event_from_the_moment_on() -> None:
    events = [(5, 1), (15, 1), (12, 1), (9, 2), (30, 3)]
    assert first_after(events, 10) == {1: 12, 3: 30}


def test_offline_gaps_run_from_a_close_to_the_agents_next_ready() -> None:
    ready = [(0, 1), (0, 2), (0, 3), (3 * S, 1), (4 * S, 1), (11 * S, 1), (6 * S, 2)]
    closed = [(1 * S, 1), (2 * S, 1), (10 * S, 1), (5 * S, 2), (7 * S, 3), (0, 2)]
    longest, never = offline_gaps(closed, ready, since_ns=1)
    # Agent 1: 1 s -> 3 s, 2 s -> 3 s, 10 s -> 11 s: its longest is 2 s. Agent 2's close
    # before ``since`` does not count. Agent 3 never came back.
    assert longest == {1: 2.0, 2: 1.0}
    assert never == {3}


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [([], 0.99, None), ([4.0], 0.99, 4.0), (list(range(1, 101)), 0.99, 99), ([3, 1, 2], 0.5, 2)],
)
def test_percentile_is_the_nearest_rank(values, share, expected) -> None:
    assert percentile(values, share) == expected
