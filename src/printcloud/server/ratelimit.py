"""Rate limiting with GCRA (the generic cell rate algorithm).

GCRA keeps one number per key, the "theoretical arrival time", which gives a
smooth rate with a bounded burst and an exact ``Retry-After``, unlike a fixed
one-second window that lets twice the rate through across a window edge. The
in-process limiter serves the embedded shape; the Redis one runs the same
arithmetic in a Lua script, so every instance of a cluster shares one budget. While
Redis is away a cluster's instances count in their own processes
(:class:`FallbackRateLimiter`): each lets the full rate through, so the cluster lets
that many times the rate, rather than refusing every request.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from printcloud.server.availability import Availability

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    """``count`` events per ``period`` seconds; up to ``count`` may come at once."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: object) -> Rate:
        """Parse ``"10/s"``, ``"5/15m"``, ``"100/minute"``."""
        match = _RATE.match(str(text).lower())
        if not match or match.group(3) not in _UNITS or int(match.group(1)) < 1:
            raise ValueError(
                f"invalid rate {text!r}: expected COUNT/PERIOD such as '10/s' or '5/15m'"
            )
        multiplier = int(match.group(2) or 1)
        return cls(int(match.group(1)), multiplier * _UNITS[match.group(3)])

    @property
    def interval_us(self) -> int:
        """Microseconds between two events at the steady rate."""
        return max(1, math.ceil(self.period * 1_000_000 / self.count))

    def __str__(self) -> str:
        return f"{self.count}/{self.period:g}s"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until the next event would be allowed; 0 when allowed


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: Rate) -> Decision:
        """Count one event for ``key``, unless it is over the rate."""

    async def peek(self, key: str, rate: Rate) -> Decision:
        """Tell whether one more event would be allowed, without counting it."""

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """GCRA in this process: the embedded shape."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def _decide(self, key: str, rate: Rate, *, count: bool) -> Decision:
        # Whole microseconds, as in the Redis script: float sums of the interval drift
        # and would refuse the last event of a burst.
        now = int(self._clock() * 1_000_000)
        interval = rate.interval_us
        tat = max(self._tat.get(key, now), now)
        allow_at = tat + interval - rate.count * interval
        if now < allow_at:
            return Decision(False, (allow_at - now) / 1_000_000)
        if count:
            self._tat[key] = tat + interval
            if len(self._tat) > 100_000:
                self._forget_idle(now)
        return Decision(True, 0.0)

    def _forget_idle(self, now: int) -> None:
        # A key whose arrival time has passed is back to a full burst: dropping it
        # changes no decision and keeps memory bounded.
        for stale in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[stale]

    async def hit(self, key: str, rate: Rate) -> Decision:
        async with self._lock:
            return self._decide(key, rate, count=True)

    async def peek(self, key: str, rate: Rate) -> Decision:
        async with self._lock:
            return self._decide(key, rate, count=False)

    async def close(self) -> None:
        self._tat.clear()


# KEYS[1]: the key. ARGV: interval (µs), burst (events), 1 to count the event or 0 to peek.
# Redis's own clock is used so that all instances agree on "now".
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now}
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return {1, 0}
"""


class RedisRateLimiter:
    """GCRA in Redis: one budget shared by every instance of a cluster."""

    def __init__(self, redis: Redis, prefix: str = "printcloud:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_GCRA_LUA)

    async def _run(self, key: str, rate: Rate, *, count: bool) -> Decision:
        allowed, wait_us = await self._script(
            keys=[self._prefix + key], args=[rate.interval_us, rate.count, "1" if count else "0"]
        )
        return Decision(bool(allowed), int(wait_us) / 1_000_000)

    async def hit(self, key: str, rate: Rate) -> Decision:
        return await self._run(key, rate, count=True)

    async def peek(self, key: str, rate: Rate) -> Decision:
        return await self._run(key, rate, count=False)

    async def forget_connections(self) -> None:
        """Drop the pooled connections: after a failure they may all be dead, and each
        would fail one call more once Redis is back."""
        await self._redis.connection_pool.disconnect()

    async def close(self) -> None:
        await self._redis.aclose()


class FallbackRateLimiter:
    """Redis's shared budget while Redis answers; this process's own while it does not.

    While Redis is away no request waits on it: one call per ``retry_interval`` tries it
    again (``Availability.worth_trying``), the others count here at once.
    """

    def __init__(
        self,
        shared: RedisRateLimiter,
        local: RateLimiter,
        *,
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = local
        self._clock = clock
        self.availability = Availability(
            "redis",
            "rate limits are counted by each instance on its own",
            client="rate_limiter",
            retry_interval=retry_interval,
        )

    async def _decide(self, key: str, rate: Rate, *, count: bool) -> Decision:
        local = self._local.hit if count else self._local.peek
        if not self.availability.worth_trying(self._clock()):
            return await local(key, rate)
        shared = self._shared.hit if count else self._shared.peek
        try:
            decision = await shared(key, rate)
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            self.availability.failed(exc, self._clock())
            await self._shared.forget_connections()
            return await local(key, rate)
        self.availability.up()
        return decision

    async def hit(self, key: str, rate: Rate) -> Decision:
        return await self._decide(key, rate, count=True)

    async def peek(self, key: str, rate: Rate) -> Decision:
        return await self._decide(key, rate, count=False)

    async def close(self) -> None:
        await self._shared.close()
        await self._local.close()
