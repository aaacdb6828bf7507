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

from printcloud.server import metrics

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
    """Whether ``name`` answered last time, the two log lines of an outage, and how often
    a caller that can do without it tries it while it is away."""

    def __init__(
        self, name: str, consequence: str, *, client: str, retry_interval: float = 1.0
    ) -> None:
        self.name = name
        # What the server does meanwhile, for the operator reading the warning.
        self._consequence = consequence
        self.available = True
        self._retry_interval = retry_interval
        self._retry_at = 0.0
        # Who calls it (the bus, the rate limiter...): each has its own view of it.
        self._errors = metrics.DEPENDENCY_ERRORS.labels(name, client)
        self._outages = metrics.DEPENDENCY_OUTAGES.labels(name, client)
        self._gauge = metrics.DEPENDENCY_AVAILABLE.labels(name, client)
        self._gauge.set(1)

    def worth_trying(self, now: float) -> bool:
        """Whether to call it now: always while it answers; while it is away, one call
        per ``retry_interval``, so that a service refusing or not answering costs one
        request a short timeout per interval, not every request."""
        if self.available:
            return True
        if now < self._retry_at:
            return False
        self._retry_at = now + self._retry_interval  # this call tries; the others do not
        return True

    def failed(self, error: BaseException, now: float) -> None:
        """A call failed: away, and not tried again for ``retry_interval``."""
        self.down(error)
        self._retry_at = now + self._retry_interval

    def down(self, error: BaseException | str) -> None:
        self._errors.inc()
        if self.available:
            self.available = False
            self._outages.inc()
            self._gauge.set(0)
            log.warning(
                "dependency_unavailable",
                dependency=self.name,
                error=str(error)[:300],
                meanwhile=self._consequence,
            )

    def up(self) -> None:
        if not self.available:
            self.available = True
            self._gauge.set(1)
            log.warning("dependency_available_again", dependency=self.name)
