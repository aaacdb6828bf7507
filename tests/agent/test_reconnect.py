"""What the agent does when a connection ends: ``Reconnection.delay_after`` decides, and
these tests call it with the ends to handle instead of waiting for an agent to wait."""

from __future__ import annotations

import itertools
import random

import pytest
from structlog.testing import capture_logs

from printcloud.agent.backoff import full_jitter
from printcloud.agent.reconnect import (
    REPLACED,
    RETRIES_RESET_AFTER,
    STABLE_AFTER,
    AgentFatal,
    ConnectionEnd,
    Reconnection,
)
from printcloud.protocol.retry_hint import (
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    MAX_RETRY_AFTER,
)
from printcloud.protocol.session import CLOSE_KEY_REVOKED, CLOSE_REMOVED, CLOSE_REPLACED

REPLACED_END = ConnectionEnd(
    authenticated=True, lasted=5.0, close_code=CLOSE_REPLACED, error="received 4000"
)
LOST = ConnectionEnd(error="connection refused")
BUSY = ConnectionEnd(
    close_code=CLOSE_TRY_AGAIN_LATER,
    close_reason="busy; retry_after=1.5",
    error="received 1013 (try again later) busy; retry_after=1.5",
)
# The ceilings of the usual delays (1 s, growing by 1.618, capped at 60 s).
CEILINGS = [min(60.0, 1.618**n) for n in range(12)]


class TopOfRange(random.Random):
    """Draws the top of every range: a delay is then its ceiling, and a test reads from
    it which step of the backoff the agent is at."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_revoked_key_stops_the_agent_and_says_to_log_in_again() -> None:
    end = ConnectionEnd(authenticated=True, lasted=3600, close_code=CLOSE_KEY_REVOKED, error="x")
    with pytest.raises(AgentFatal, match=r"API key was revoked; run `printcloud agent login`"):
        Reconnection().delay_after(end)


def test_a_takeover_waits_from_30_seconds_doubling_up_to_10_minutes() -> None:
    reconnection = Reconnection(random.Random(4))
    with capture_logs() as logs:
        delays = [reconnection.delay_after(REPLACED_END) for _ in range(8)]

    for delay, expected in zip(delays, [30, 60, 120, 240, 480, 600, 600, 600], strict=True):
        assert expected * 0.8 <= delay <= expected * 1.2  # jittered
    assert [e["event"] for e in logs] == ["connection_replaced"] * 8
    assert logs[0]["reason"] == REPLACED == "another computer connected with this name"
    assert logs[0]["in_seconds"] == round(delays[0], 1)
    assert logs[0]["log_level"] == "warning"


def test_a_connection_that_lasted_starts_the_takeover_waits_again() -> None:
    reconnection = Reconnection(random.Random(5))
    for _ in range(4):
        reconnection.delay_after(REPLACED_END)
    short = ConnectionEnd(authenticated=True, lasted=60, close_code=CLOSE_REPLACED, error="x")
    assert reconnection.delay_after(short) >= 480 * 0.8  # still taking turns: still growing

    lasted = ConnectionEnd(
        authenticated=True, lasted=STABLE_AFTER, close_code=CLOSE_REPLACED, error="x"
    )
    assert 24 <= reconnection.delay_after(lasted) <= 36


def test_a_takeover_does_not_slow_down_reconnecting_after_a_lost_connection() -> None:
    reconnection = Reconnection(random.Random(6))
    reconnection.delay_after(REPLACED_END)
    with capture_logs() as logs:
        delay = reconnection.delay_after(LOST)
    assert delay <= 1.0  # the short waits of a lost connection, from their start
    assert logs == [
        {"event": "connection_lost", "error": "connection refused", "log_level": "warning"}
    ]


def test_a_computer_removed_from_its_account_is_said_plainly_and_reconnects_soon() -> None:
    end = ConnectionEnd(authenticated=True, lasted=30, close_code=CLOSE_REMOVED, error="x")
    with capture_logs() as logs:
        delay = Reconnection(random.Random(7)).delay_after(end)
    assert delay <= 1.0
    [entry] = logs
    assert entry["event"] == "computer_removed"
    assert entry["reason"] == "this computer was removed from its PrintCloud account"


def test_lost_connections_wait_longer_each_time_until_one_works() -> None:
    reconnection = Reconnection(TopOfRange())
    delays = [reconnection.delay_after(LOST) for _ in range(6)]
    assert delays == pytest.approx(CEILINGS[:6])
    worked = ConnectionEnd(authenticated=True, lasted=10, close_code=1001)  # ended cleanly
    assert reconnection.delay_after(worked) == 1.0


def test_lost_connections_wait_a_full_jitter_delay_from_the_first_retry() -> None:
    reconnection = Reconnection(random.Random(8))
    delays = [reconnection.delay_after(LOST) for _ in range(60)]
    assert delays == list(itertools.islice(full_jitter(rng=random.Random(8)), 60))
    assert all(0 <= d <= c for d, c in zip(delays, [*CEILINGS, *[60.0] * 48], strict=True))
    assert min(delays[10:]) < 6.0  # anywhere below the cap, not within 20% of it


def test_a_connection_that_stayed_up_a_minute_and_then_dropped_starts_from_short_waits() -> None:
    reconnection = Reconnection(TopOfRange())
    for _ in range(6):
        reconnection.delay_after(LOST)
    brief = ConnectionEnd(authenticated=True, lasted=RETRIES_RESET_AFTER - 1, error="reset")
    assert reconnection.delay_after(brief) == pytest.approx(CEILINGS[6])  # came and went
    dropped = ConnectionEnd(
        authenticated=True, lasted=RETRIES_RESET_AFTER, error="the server restarted"
    )
    assert reconnection.delay_after(dropped) == 1.0


# a server that says when to come back (1012, 1013)


def test_a_busy_server_is_come_back_to_after_its_hint_not_the_backoff() -> None:
    with capture_logs() as logs:
        delays = [Reconnection(random.Random(seed)).delay_after(BUSY) for seed in range(50)]
    assert all(1.5 <= d <= 1.75 for d in delays)
    assert len(set(delays)) == len(delays)  # jittered
    assert logs[0] == {
        "event": "server_busy",
        "reason": "busy; retry_after=1.5",
        "hint_seconds": 1.5,
        "refusals": 1,
        "log_level": "info",
    }
    assert {e["event"] for e in logs} == {"server_busy"}


def test_a_restarting_server_is_said_at_info_and_come_back_to_after_its_hint() -> None:
    reconnection = Reconnection(random.Random(10))
    for _ in range(8):
        reconnection.delay_after(LOST)  # the usual delays had grown
    restart = ConnectionEnd(
        authenticated=True,
        lasted=5.0,
        close_code=CLOSE_SERVICE_RESTART,
        close_reason="server restarting; retry_after=30.0",
        error="received 1012 (service restart) server restarting; retry_after=30.0",
    )
    with capture_logs() as logs:
        delay = reconnection.delay_after(restart)
    assert 30.0 <= delay <= 33.1
    assert logs == [
        {
            "event": "server_restarting",
            "reason": "server restarting; retry_after=30.0",
            "hint_seconds": 30.0,
            "log_level": "info",
        }
    ]


def test_a_restart_or_refusal_without_a_hint_backs_off_as_usual_and_is_no_lost_connection() -> None:
    reconnection = Reconnection(TopOfRange())
    restart = ConnectionEnd(
        authenticated=True, lasted=5.0, close_code=CLOSE_SERVICE_RESTART, error="1012"
    )
    busy = ConnectionEnd(close_code=CLOSE_TRY_AGAIN_LATER, close_reason="busy", error="1013")
    with capture_logs() as logs:
        delays = [reconnection.delay_after(end) for end in (restart, busy, busy)]
    assert delays == pytest.approx(CEILINGS[:3])
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("server_restarting", "info"),
        ("server_busy", "info"),
        ("server_busy", "info"),
    ]


def test_a_hint_is_honoured_up_to_five_minutes() -> None:
    huge = ConnectionEnd(close_code=CLOSE_TRY_AGAIN_LATER, close_reason="retry_after=86400")
    delay = Reconnection(random.Random(11)).delay_after(huge)
    assert MAX_RETRY_AFTER == 300.0
    assert 300.0 <= delay <= 330.1


def test_refused_again_and_again_the_agent_backs_off_with_the_hint_as_its_floor() -> None:
    reconnection = Reconnection(TopOfRange())
    delays = [reconnection.delay_after(BUSY) for _ in range(12)]
    # The hint (1.75 at the top of its jitter), then the larger of it and the backoff,
    # which grows from the second refusal on.
    assert delays == pytest.approx([1.75, *(max(1.75, c) for c in CEILINGS[:11])])
    assert delays[-1] == 60.0


def test_refused_again_and_again_a_seeded_agent_never_comes_before_the_hint() -> None:
    reconnection = Reconnection(random.Random(12))
    delays = [reconnection.delay_after(BUSY) for _ in range(30)]
    assert all(d >= 1.5 for d in delays)
    assert max(delays[10:]) > 20.0  # backed off, far beyond what the hint alone gives


def test_a_hint_of_zero_repeated_does_not_make_a_tight_loop() -> None:
    zero = ConnectionEnd(close_code=CLOSE_TRY_AGAIN_LATER, close_reason="retry_after=0")
    reconnection = Reconnection(TopOfRange())
    delays = [reconnection.delay_after(zero) for _ in range(8)]
    assert delays == pytest.approx([0.1, *CEILINGS[:7]])


def test_a_refusal_after_the_agent_got_in_is_honoured_at_its_hint_again() -> None:
    reconnection = Reconnection(TopOfRange())
    for _ in range(8):
        reconnection.delay_after(BUSY)
    reconnection.delay_after(ConnectionEnd(authenticated=True, lasted=5.0, error="reset"))
    assert reconnection.delay_after(BUSY) == pytest.approx(1.75)
