"""What the agent does when a connection ends: ``Reconnection.delay_after`` decides, and
these tests call it with the ends to handle instead of waiting for an agent to wait."""

from __future__ import annotations

import random

import pytest
from structlog.testing import capture_logs

from printcloud.agent.reconnect import (
    REPLACED,
    RETRIES_RESET_AFTER,
    STABLE_AFTER,
    AgentFatal,
    ConnectionEnd,
    Reconnection,
)
from printcloud.protocol.session import CLOSE_KEY_REVOKED, CLOSE_REMOVED, CLOSE_REPLACED

REPLACED_END = ConnectionEnd(
    authenticated=True, lasted=5.0, close_code=CLOSE_REPLACED, error="received 4000"
)
LOST = ConnectionEnd(error="connection refused")


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
    reconnection = Reconnection(random.Random(8))
    delays = [reconnection.delay_after(LOST) for _ in range(6)]
    assert delays[0] <= 1.0
    assert delays[5] > 5.0  # 1.618^4, jittered
    worked = ConnectionEnd(authenticated=True, lasted=10, close_code=1001)  # ended cleanly
    assert reconnection.delay_after(worked) <= 1.0


def test_a_connection_that_stayed_up_a_minute_and_then_dropped_starts_from_short_waits() -> None:
    reconnection = Reconnection(random.Random(9))
    for _ in range(6):
        reconnection.delay_after(LOST)
    brief = ConnectionEnd(authenticated=True, lasted=RETRIES_RESET_AFTER - 1, error="reset")
    assert reconnection.delay_after(brief) > 5.0  # a connection that came and went at once
    dropped = ConnectionEnd(
        authenticated=True, lasted=RETRIES_RESET_AFTER, error="the server restarted"
    )
    assert reconnection.delay_after(dropped) <= 1.0
