"""What the agent does when a connection ends: wait (how long) or stop.

One function decides, from how the connection ended (``ConnectionEnd``); the
connection loop only sleeps for the answer. Tests call it with the ends they
want to see handled, rather than waiting for a real agent to wait.

- The key was revoked (close 4002): nothing but a new key helps; the agent stops,
  as it does when ``auth`` refuses the key.
- Another connection for this computer took over (close 4000): two agents share
  one name (or one configuration). Reconnecting at once would take it back, and the
  two would fight; this one waits longer each time, from 30 s up to 10 min.
- The server is restarting (close 1012) or too busy to take the connection now (close
  1013), and says when to come back (``protocol.retry_hint``): the agent comes back then,
  give or take 10%. A 1012 is the server going away on purpose, logged as such, not as a
  lost connection. Refused again and again, the agent backs off all the same (below).
- The computer was removed from the account (close 4001), the connection was lost, or a
  1012/1013 gave no hint: reconnect with the usual delays, full jitter (``backoff``).

A connection that stayed up ``RETRIES_RESET_AFTER`` (a minute) starts the usual
delays again from the shortest, however it ended: a server restart costs a long-running
agent a second, not the minute its delays had grown to. The takeover waits start again
only after ``STABLE_AFTER``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import structlog

from printcloud.agent.backoff import after_hint, full_jitter, growing
from printcloud.protocol.retry_hint import (
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    retry_after,
)
from printcloud.protocol.session import CLOSE_KEY_REVOKED, CLOSE_REMOVED, CLOSE_REPLACED

log = structlog.get_logger(__name__)

TAKEOVER_FIRST = 30.0
TAKEOVER_CAP = 600.0
RETRIES_RESET_AFTER = 60.0
# Longer than the longest takeover wait: two agents taking a computer from each other
# never keep a connection this long, so their waits keep growing.
STABLE_AFTER = 900.0

RUN_LOGIN_AGAIN = "run `printcloud agent login` again"
KEY_REVOKED = (
    f"the server closed the connection: the API key was revoked; {RUN_LOGIN_AGAIN} "
    "to give this computer a new one"
)
REPLACED = "another computer connected with this name"


class AgentFatal(Exception):
    """Retrying cannot help (the key was refused or revoked): the message says what to do."""


@dataclass(frozen=True)
class ConnectionEnd:
    """How one connection attempt ended."""

    authenticated: bool = False  # auth_ok was received
    lasted: float = 0.0  # seconds from auth_ok to the end
    close_code: int | None = None  # the server's close code, when it sent a close frame
    close_reason: str | None = None  # and its reason (a 1012/1013 may say when to come back)
    error: str | None = None  # how it was lost; None when it ended cleanly


class Reconnection:
    """The delays between one agent's connections, across its whole run."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - spreading reconnections, not secrets
        self._retry = self._retries()
        self._takeover: Iterator[float] | None = None
        self._refusals = 0  # 1013 closes in a row

    def _retries(self) -> Iterator[float]:
        return full_jitter(rng=self._rng)

    def delay_after(self, end: ConnectionEnd) -> float:
        """Seconds to wait before connecting again; raises AgentFatal when reconnecting
        cannot help. Logs why the connection ended."""
        if end.close_code == CLOSE_KEY_REVOKED:
            raise AgentFatal(KEY_REVOKED)
        if end.authenticated and end.lasted >= STABLE_AFTER:
            self._takeover = None
        if end.authenticated and end.lasted >= RETRIES_RESET_AFTER:
            self._retry = self._retries()
        self._refusals = self._refusals + 1 if end.close_code == CLOSE_TRY_AGAIN_LATER else 0
        if end.close_code == CLOSE_REPLACED:
            if self._takeover is None:
                # Not full jitter: these waits work by their length (the other agent keeps
                # the computer meanwhile); one drawn near 0 would start the fight again.
                self._takeover = growing(
                    first=TAKEOVER_FIRST, factor=2.0, cap=TAKEOVER_CAP, rng=self._rng
                )
            delay = next(self._takeover)
            log.warning(
                "connection_replaced",
                reason=REPLACED,
                hint="two agents use one computer name (or one configuration); "
                "give each computer its own with `printcloud agent login --name`",
                in_seconds=round(delay, 1),
            )
            return delay
        if end.authenticated and end.error is None:
            self._retry = self._retries()  # it had worked: start again from short waits
        hint = retry_after(end.close_code, end.close_reason)
        if end.close_code == CLOSE_SERVICE_RESTART:
            log.info("server_restarting", reason=end.close_reason, hint_seconds=hint)
        elif end.close_code == CLOSE_TRY_AGAIN_LATER:
            log.info(
                "server_busy", reason=end.close_reason, hint_seconds=hint, refusals=self._refusals
            )
        elif end.close_code == CLOSE_REMOVED:
            log.warning(
                "computer_removed",
                reason="this computer was removed from its PrintCloud account",
                hint="when the agent reconnects the server adds it again; stop the agent "
                "if this computer should no longer print for the account",
            )
        elif end.error is not None:
            log.warning("connection_lost", error=end.error)
        if hint is None:
            return next(self._retry)
        delay = after_hint(hint, self._rng)
        if self._refusals > 1:
            # Refused again although it came back when told: the server takes connections
            # slower than it thought, and every agent it told the same is back too. The
            # backoff keeps growing under the hint so the crowd thins out whatever the
            # hints say (a hint of 0 from a confused server cannot make a tight loop);
            # the hint stays the floor, since coming back sooner is only refused again.
            delay = max(delay, next(self._retry))
        return delay
