"""Delays between reconnection attempts: random at first, then growing, capped, jittered.

A plain generator, as websockets' client does it, so a thousand agents that lost
the same server do not come back at the same instant.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def backoff(
    *,
    first: float = 1.0,
    factor: float = 1.618,
    cap: float = 60.0,
    rng: random.Random | None = None,
    random_first: bool = True,
) -> Iterator[float]:
    """``random_first``: the first delay anywhere between 0 and ``first`` (a lost server:
    come back soon, but not all at once); else the sequence starts at ``first``."""
    rng = rng or random.Random()  # noqa: S311 - spreading reconnections, not secrets
    if random_first:
        yield rng.uniform(0, first)
    delay = first
    while True:
        yield delay * rng.uniform(0.8, 1.2)
        delay = min(delay * factor, cap)
