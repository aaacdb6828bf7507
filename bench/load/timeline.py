"""Series and gaps from the fleet's event logs (monotonic_ns), for the restart phases."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable

NS = 1e9


def cumulative(times_ns: Iterable[int], origin_ns: int, points: int = 100) -> list[list[float]]:
    """How many events had happened by each time: ``[[seconds after origin, count], ...]``.

    At most ``points`` + 1 rows (the count's steps, evenly spaced, and always the last),
    from ``[0, 0]``.
    """
    times = sorted(times_ns)
    rows = [[0.0, 0]]
    for step in range(1, min(points, len(times)) + 1):
        count = math.ceil(step * len(times) / min(points, len(times)))
        rows.append([round((times[count - 1] - origin_ns) / NS, 3), count])
    return rows


def first_after(events: Iterable[tuple[int, int]], since_ns: int) -> dict[int, int]:
    """Each agent's first event at or after ``since_ns``: agent -> monotonic_ns."""
    first: dict[int, int] = {}
    for at, agent in events:
        if at >= since_ns and (agent not in first or at < first[agent]):
            first[agent] = at
    return first


def offline_gaps(
    closed: Iterable[tuple[int, int]], ready: Iterable[tuple[int, int]], since_ns: int
) -> tuple[dict[int, float], set[int]]:
    """Each agent's longest time from a socket's close (at or after ``since_ns``) to its
    next ``printers_ok``, in seconds; and the agents that never came back."""
    readies: defaultdict[int, list[int]] = defaultdict(list)
    for at, agent in ready:
        readies[agent].append(at)
    for times in readies.values():
        times.sort()
    longest: dict[int, float] = {}
    never: set[int] = set()
    for at, agent in closed:
        if at < since_ns:
            continue
        times = readies[agent]
        following = bisect.bisect_left(times, at)
        if following == len(times):
            never.add(agent)
            continue
        longest[agent] = max(longest.get(agent, 0.0), (times[following] - at) / NS)
    return longest, never


def percentile(values: Iterable[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 0.99 for p99); None of nothing."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
