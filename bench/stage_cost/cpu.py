"""CPU time of another process, to the nanosecond, read around each stage.

``/proc/<pid>/stat`` counts in clock ticks (10 ms here): a smoke stage of a few dozen
jobs costs a handful of them. Linux exposes every process's CPU clock to
``clock_gettime`` under a clock id made from its pid (``CPUCLOCK_SCHED``, the sum of
all its threads' run time), which Python can read but not name.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

# The kernel's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED): ((~pid) << 3) | 2.
_CPUCLOCK_SCHED = 2
# A process is settled when it used less than this share of a core over a window.
_QUIET_SHARE = 0.02
_WINDOW_SECONDS = 0.1


def cpu_ns(pid: int) -> int:
    """User + system CPU time process ``pid`` (all its threads) has used so far."""
    return time.clock_gettime_ns(((~pid) << 3) | _CPUCLOCK_SCHED)


async def settled(pid: int, limit_seconds: float = 10) -> int:
    """Wait until ``pid`` is quiet; its CPU time when the quiet window began.

    A stage's last answer can leave work behind it (a connection to close, a wake-up
    to run): the stage ends when its process stops working, and the quiet window
    itself (a timer or a ping now and then) is not counted.
    """
    deadline = time.monotonic() + limit_seconds
    before = cpu_ns(pid)
    while True:
        await asyncio.sleep(_WINDOW_SECONDS)
        now = cpu_ns(pid)
        if now - before < _QUIET_SHARE * _WINDOW_SECONDS * 1e9 or time.monotonic() > deadline:
            return before
        before = now


@dataclass
class Spent:
    """What one measured stretch cost a process: CPU and wall time."""

    cpu_ns: int = 0
    wall_s: float = 0.0


@contextlib.asynccontextmanager
async def measured(pid: int) -> AsyncIterator[Spent]:
    """The process's CPU over the block, from settled to settled (filled in at its end)."""
    spent = Spent()
    await settled(pid)
    # Read after the quiet window, whose little CPU belongs to no stage.
    start = cpu_ns(pid)
    wall = time.monotonic()
    yield spent
    spent.wall_s = time.monotonic() - wall
    spent.cpu_ns = await settled(pid) - start
