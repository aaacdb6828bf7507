"""Admission control of the agents' socket, by its clock: places, slots, the rate."""

from __future__ import annotations

import itertools
import random

import pytest

from printcloud.server.agents.admission import (
    INITIAL_RATE,
    MAX_RESTART_WINDOW,
    MAX_WINDOW,
    MIN_HINT,
    MIN_RATE,
    RESTART_GRACE,
    RETURNING_SHARE,
    Admission,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_places_up_to_the_limit_then_refusals_until_one_is_given_back() -> None:
    admission = Admission(2, clock=Clock())
    first, second = admission.enter(), admission.enter()
    assert first is not None
    assert second is not None
    assert admission.enter() is None
    assert admission.refused == 1
    first.release()
    first.release()  # twice is once
    assert admission.in_flight == 1
    assert admission.enter() is not None
    assert admission.enter() is None


def test_each_refused_connection_gets_its_own_later_slot() -> None:
    clock = Clock()
    admission = Admission(200, clock=clock)
    hints = [admission.retry_after() for _ in range(5)]
    step = 1 / INITIAL_RATE
    # After those in flight, one slot after another at the rate.
    assert hints[0] == pytest.approx(max(200 / INITIAL_RATE, MIN_HINT) + step)
    assert [b - a for a, b in itertools.pairwise(hints)] == pytest.approx([step] * 4)
    clock.now += 60  # the queue of slots has passed: the next starts from now again
    assert admission.retry_after() == pytest.approx(max(200 / INITIAL_RATE, MIN_HINT) + step)


def test_slots_never_reach_beyond_the_window() -> None:
    admission = Admission(1, clock=Clock(), rng=random.Random(7))
    hints = [admission.retry_after() for _ in range(int(INITIAL_RATE * MAX_WINDOW) + 500)]
    assert max(hints) <= MAX_WINDOW
    assert min(hints[-500:]) >= 1 / INITIAL_RATE  # the overflow is spread, not all at once
    assert len({round(h, 3) for h in hints[-500:]}) > 400


def _busy_second(admission: Admission, clock: Clock, completions: int) -> None:
    """A second at the cap in which ``completions`` connections complete."""
    for _ in range(completions):
        ticket = admission.enter()
        assert ticket is not None
        assert admission.enter() is None
        ticket.release(completed=True)
    if not completions:
        held = admission.enter()
        assert admission.enter() is None
        assert held is not None
        held.release()
    clock.now += 1


def test_the_rate_is_measured_only_in_seconds_spent_at_the_cap() -> None:
    clock = Clock()
    admission = Admission(1, clock=clock)
    for _ in range(50):  # a quiet second: 50 complete, none refused
        ticket = admission.enter()
        assert ticket is not None
        ticket.release(completed=True)
    clock.now += 1
    _busy_second(admission, clock, 0)  # the first busy second of a burst: not counted
    assert admission.rate == INITIAL_RATE
    _busy_second(admission, clock, 0)  # the next one, nothing completing: counted
    admission.enter()
    assert admission.rate == pytest.approx(0.5 * INITIAL_RATE + 0.5 * MIN_RATE)


def test_completions_in_a_busy_second_after_another_set_the_rate() -> None:
    clock = Clock()
    admission = Admission(1, clock=clock)
    _busy_second(admission, clock, 100)
    admission.enter()
    assert admission.rate == INITIAL_RATE  # the burst's first second says nothing
    admission = Admission(1, clock=clock)
    _busy_second(admission, clock, 30)
    _busy_second(admission, clock, 100)
    admission.enter()
    assert admission.rate == pytest.approx(0.5 * INITIAL_RATE + 0.5 * 100)


def test_restart_hints_spread_the_agents_over_what_the_rate_takes() -> None:
    admission = Admission(10, rng=random.Random(3))
    hints = admission.restart_hints(3000)
    window = 3000 / (INITIAL_RATE * RETURNING_SHARE)
    assert min(hints) >= RESTART_GRACE
    assert max(hints) <= RESTART_GRACE + window
    # Spread: each tenth of the window gets about a tenth of the agents.
    tenths = [0] * 10
    for hint in hints:
        tenths[min(int((hint - RESTART_GRACE) / window * 10), 9)] += 1
    assert all(200 < count < 400 for count in tenths)


def test_restart_hints_are_shorter_when_other_servers_take_the_agents_too() -> None:
    admission = Admission(10, rng=random.Random(5))
    alone = admission.restart_hints(3000)
    shared = admission.restart_hints(3000, instances=2)
    window = 3000 / (INITIAL_RATE * RETURNING_SHARE)
    assert max(shared) - RESTART_GRACE <= window / 2
    assert max(alone) - RESTART_GRACE > window / 2


def test_restart_hints_never_keep_an_agent_away_long() -> None:
    admission = Admission(10, rng=random.Random(5))
    admission.rate = MIN_RATE  # a server that measured itself slow
    assert max(admission.restart_hints(100_000)) <= RESTART_GRACE + MAX_RESTART_WINDOW
