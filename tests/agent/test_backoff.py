from __future__ import annotations

import itertools
import random

from printcloud.agent.backoff import backoff


def test_backoff_starts_small_and_random_then_grows_to_a_cap() -> None:
    delays = list(
        itertools.islice(backoff(first=1.0, factor=2.0, cap=10.0, rng=random.Random(7)), 12)
    )
    assert 0 <= delays[0] <= 1.0
    assert 0.8 <= delays[1] <= 1.2
    assert 1.6 <= delays[2] <= 2.4
    assert all(8.0 <= d <= 12.0 for d in delays[6:])  # capped at 10, with jitter
    assert len(set(delays)) == len(delays)  # jittered: agents do not come back in step


def test_two_agents_do_not_retry_in_step() -> None:
    first = list(itertools.islice(backoff(rng=random.Random(1)), 5))
    second = list(itertools.islice(backoff(rng=random.Random(2)), 5))
    assert first != second


def test_without_a_random_first_delay_the_sequence_starts_at_first() -> None:
    delays = list(
        itertools.islice(
            backoff(first=30.0, factor=2.0, cap=600.0, rng=random.Random(3), random_first=False),
            7,
        )
    )
    for delay, expected in zip(delays, [30, 60, 120, 240, 480, 600, 600], strict=True):
        assert expected * 0.8 <= delay <= expected * 1.2
