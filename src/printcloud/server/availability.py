"""The services a server leans on (PostgreSQL, Redis) going away and coming back.

A dependency that stops answering is an outage of a neighbour, not a bug of ours: a
request that needs it is answered 503 with ``Retry-After`` (never 500 with a stack
trace), and what can do without it degrades (the rate limiter counts in this process,
the sweep covers the bus's lost wake-ups). The log says so once when it goes and
once when it is back, not once per request: under load an outage would otherwise
write thousands of identical lines.
"""

from __future__ import annotations

import structlog

log = structlog.get_logger(__name__)

# What a 503 asks a client to wait: a restarted PostgreSQL or Redis is back in seconds.
RETRY_AFTER = 5


class DependencyUnavailable(Exception):
    """``dependency`` is not answering; the request may succeed if sent again later."""

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency} is unavailable: {detail}")
        self.dependency = dependency
        self.detail = detail


class Availability:
    """Whether ``name`` answered last time, and the two log lines of an outage."""

    def __init__(self, name: str, consequence: str) -> None:
        self.name = name
        # What the server does meanwhile, for the operator reading the warning.
        self._consequence = consequence
        self.available = True

    def down(self, error: BaseException | str) -> None:
        if self.available:
            self.available = False
            log.warning(
                "dependency_unavailable",
                dependency=self.name,
                error=str(error)[:300],
                meanwhile=self._consequence,
            )

    def up(self) -> None:
        if not self.available:
            self.available = True
            log.warning("dependency_available_again", dependency=self.name)
