from __future__ import annotations

import itertools
import random

from printcloud.agent.backoff import after_hint, full_jitter, growing


def test_full_jitter_draws_each_delay_from_zero_to_a_growing_capped_ceiling() -> None:
    delays = list(
        itertools.islice(full_jitter(base=1.0, factor=2.0, cap=10.0, rng=random.Random(7)), 200)
    )
    ceilings = [min(10.0, 2.0**n) for n in range(200)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    capped = delays[4:]
    # Spread over the whole window, not in a band around the ceiling: agents that were
    # refused together do not come back together.
    assert min(capped) < 1.0
    assert max(capped) > 9.0
    assert sum(capped) / len(capped) < 6.0  # about half the cap, on average


def test_the_first_full_jitter_delay_is_anywhere_below_the_base() -> None:
    firsts = [next(full_jitter(base=1.0, rng=random.Random(seed))) for seed in range(100)]
    assert all(0 <= d <= 1.0 for d in firsts)
    assert min(firsts) < 0.1
    assert max(firsts) > 0.9


def test_two_agents_do_not_retry_in_step() -> None:
    first = list(itertools.islice(full_jitter(rng=random.Random(1)), 5))
    second = list(itertools.islice(full_jitter(rng=random.Random(2)), 5))
    assert first != second


def test_growing_waits_start_at_first_and_double_to_the_cap_within_20_percent() -> None:
    delays = list(
        itertools.islice(growing(first=30.0, factor=2.0, cap=600.0, rng=random.Random(3)), 7)
    )
    for delay, expected in zip(delays, [30, 60, 120, 240, 480, 600, 600], strict=True):
        assert expected * 0.8 <= delay <= expected * 1.2


def test_a_hinted_delay_is_the_hint_and_at_most_10_percent_and_a_tenth_more() -> None:
    rng = random.Random(4)
    delays = [after_hint(1.5, rng) for _ in range(200)]
    assert all(1.5 <= d <= 1.75 for d in delays)
    assert max(delays) - min(delays) > 0.2  # jittered: the same hint, different instants
    assert all(0 <= after_hint(0.0, rng) <= 0.1 for _ in range(20))
