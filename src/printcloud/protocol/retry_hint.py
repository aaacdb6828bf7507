"""When to come back: the hint a server puts in the reason of a 1012 or 1013 close.

A server that is restarting (1012, "Service Restart") or too busy to take another
connection now (1013, "Try Again Later") says in how many seconds the client should
try again: ``retry_after=<seconds>`` anywhere in the close reason, beside words for
people ("server restarting; retry_after=3.4"). The server spreads these over a window
sized to the rate it can take connections at, so a storm of reconnections arrives as a
steady stream instead of all at once. A client that does not read the hint (one
written from the original document) backs off as usual and is told again.
"""

from __future__ import annotations

import math
import re

CLOSE_SERVICE_RESTART = 1012  # RFC 6455 registry: the server is restarting
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server is overloaded
HINTED_CLOSES = frozenset({CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER})

# A hint is never honoured beyond this: a wrong or hostile value cannot park an agent.
MAX_RETRY_AFTER = 300.0

_HINT = re.compile(r"retry_after=(\d+(?:\.\d+)?)")


def with_retry_after(text: str, seconds: float) -> str:
    """A close reason carrying the hint; short enough for a close frame (123 bytes)."""
    hint = f"; retry_after={min(max(seconds, 0.0), MAX_RETRY_AFTER):.1f}"
    return text.encode()[: 123 - len(hint)].decode(errors="ignore") + hint


def retry_after(code: int | None, reason: str | None) -> float | None:
    """The seconds a 1012/1013 close asks the client to wait, if it says so."""
    if code not in HINTED_CLOSES or not reason:
        return None
    match = _HINT.search(reason)
    if match is None:
        return None
    seconds = float(match.group(1))
    if not math.isfinite(seconds):
        return None
    return min(seconds, MAX_RETRY_AFTER)
