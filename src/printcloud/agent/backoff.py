"""Delays between reconnection attempts, as plain generators (websockets' client does it so).

A thousand agents that lost the same server must not come back at the same instant:
``full_jitter`` spreads them over the whole of a growing window (AWS's "full jitter").
``growing`` keeps a floor under each wait, for the waits whose length is the point.
``after_hint`` follows a server that said when to come back.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def full_jitter(
    *,
    base: float = 1.0,
    factor: float = 1.618,
    cap: float = 60.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """The n-th delay uniform in [0, min(cap, base * factor**n)]: from the first retry the
    agents are spread over the whole window, so a storm thins out at once instead of
    arriving again in a band around each step."""
    rng = rng or random.Random()  # noqa: S311 - spreading reconnections, not secrets
    ceiling = min(base, cap)
    while True:
        yield rng.uniform(0, ceiling)
        ceiling = min(ceiling * factor, cap)


def growing(
    *, first: float, factor: float, cap: float, rng: random.Random | None = None
) -> Iterator[float]:
    """``first``, then ``factor`` times longer each time up to ``cap``, each within ±20%."""
    rng = rng or random.Random()  # noqa: S311 - spreading reconnections, not secrets
    delay = min(first, cap)
    while True:
        yield delay * rng.uniform(0.8, 1.2)
        delay = min(delay * factor, cap)


def after_hint(hint: float, rng: random.Random) -> float:
    """A delay of at least ``hint``: the server already spread its clients' hints over a
    window, so a little jitter on top (10% and 0.1 s) only keeps the ones given the same
    hint from arriving in the same millisecond."""
    return rng.uniform(hint, hint * 1.1 + 0.1)
