"""How many agents may be connecting at once, and when the others should come back.

After a restart every office's agent reconnects within seconds. Each connection costs
a handshake, an authentication transaction and a printers transaction; taken all at
once, they share the event loop until every one of them is slower than the agents'
timeouts, fail, and are retried: a storm that feeds itself. So at most
``ws_max_handshakes`` connections are between their handshake and their first
``printers_ok`` at a time; one more is accepted and closed at once with 1013 and a
``retry_after`` hint, which costs the server a few frames.

The hints are slots: each refused agent is given its own moment to come back, one
after another at the rate connections have been completing, so a storm comes back as
a steady stream the server can take. The rate is measured in the seconds when the cap
was reached (a quiet server says nothing about its capacity) and starts from a figure
measured on a small machine.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

# Connections a second a server takes before it has measured itself: about what a
# 2-core machine completed in the restart benchmark (docs/performance.md).
INITIAL_RATE = 300.0
MIN_RATE = 20.0
# No hint reaches further than this: clients that ignore hints and retry at once take
# slots too, and must not push everyone else's out for minutes.
MAX_WINDOW = 60.0
MAX_RESTART_WINDOW = MAX_WINDOW
# A returning agent brings its queued jobs, their reports and webhooks: measured with
# 10,000 agents and a job each, the server took them at about half the rate it connects
# agents that bring nothing (140 against 300 a second).
RETURNING_SHARE = 0.5
# The restart after a graceful shutdown takes a moment; the first agents told to come
# back are told to come back after it.
RESTART_GRACE = 1.0
# A refused client comes back no sooner than this: at once would only be refused again.
MIN_HINT = 0.5


class Ticket:
    """One admitted connection's place; ``release`` (any number of times) frees it."""

    __slots__ = ("_admission", "_released")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._released = False

    def release(self, *, completed: bool = False) -> None:
        if not self._released:
            self._released = True
            self._admission._leave(completed)


class Admission:
    def __init__(
        self,
        limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.limit = limit
        self.in_flight = 0
        self.rate = INITIAL_RATE
        self.refused = 0  # since start: the health and the benchmark read it
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - spreading reconnections, not secrets
        self._next_slot = 0.0
        self._second = int(clock())
        self._completed_this_second = 0
        self._saturated_this_second = False
        self._saturated_before = False

    def enter(self) -> Ticket | None:
        """A place for one more connection, or None: refuse it with ``retry_after()``."""
        self._tick()
        if self.in_flight >= self.limit:
            self._saturated_this_second = True
            self.refused += 1
            return None
        self.in_flight += 1
        return Ticket(self)

    def retry_after(self) -> float:
        """Seconds until the refused connection's own slot."""
        now = self._clock()
        # Those in flight finish first, then each slot follows the one given before.
        earliest = now + max(self.limit / self.rate, MIN_HINT)
        slot = max(earliest, self._next_slot) + 1 / self.rate
        if slot - now > MAX_WINDOW:
            slot = now + self._rng.uniform(earliest - now, MAX_WINDOW)
        else:
            self._next_slot = slot
        return slot - now

    def restart_hints(self, count: int, instances: int = 1) -> list[float]:
        """For a shutdown: when each of ``count`` agents should come back, spread over
        the time ``instances`` servers like this one need to take them all at the
        measured rate, a minute at most. Not shorter: every agent that comes back
        before a place is free costs a refused handshake, and with 10,000 agents a 20 s
        window made the restart slower (71 -> 96 s, 7,373 -> 16,029 refusals)."""
        rate = self.rate * RETURNING_SHARE * max(instances, 1)
        window = min(count / rate, MAX_RESTART_WINDOW)
        return [RESTART_GRACE + self._rng.uniform(0, window) for _ in range(count)]

    def _leave(self, completed: bool) -> None:
        self._tick()
        self.in_flight -= 1
        if completed:
            self._completed_this_second += 1

    def _tick(self) -> None:
        second = int(self._clock())
        if second == self._second:
            return
        # Only a second spent at the cap, after another one at the cap, tells how fast
        # connections complete: in the first second of a burst the places fill and few
        # finish yet, and counting it had the hints spaced for a server ten times slower.
        consecutive = second == self._second + 1
        if self._saturated_this_second and self._saturated_before and consecutive:
            measured = max(float(self._completed_this_second), MIN_RATE)
            self.rate = 0.5 * self.rate + 0.5 * measured
        self._saturated_before = self._saturated_this_second and consecutive
        self._second = second
        self._completed_this_second = 0
        self._saturated_this_second = False
