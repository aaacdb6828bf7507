from __future__ import annotations

import secrets
from typing import Any

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from printcloud.server.app import create_app
from printcloud.server.ratelimit import (
    FallbackRateLimiter,
    MemoryRateLimiter,
    Rate,
    RedisRateLimiter,
)
from printcloud.server.runtime import redis_client
from tests.helpers.accounts import TestAccount
from tests.helpers.asgi_client import client_for
from tests.helpers.private_services import PrivateRedis, private_directory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [
        ("10/s", 10, 1.0),
        ("10/second", 10, 1.0),
        ("5/15m", 5, 900.0),
        ("100/minute", 100, 60.0),
        ("3 / 2h", 3, 7200.0),
    ],
)
def test_rate_parsing(text: str, count: int, period: float) -> None:
    assert Rate.parse(text) == Rate(count, period)


@pytest.mark.parametrize("text", ["", "10", "0/s", "ten/s", "10/fortnight", "-1/s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid rate"):
        Rate.parse(text)


async def test_gcra_allows_a_burst_then_the_steady_rate() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    rate = Rate.parse("10/s")

    burst = [(await limiter.hit("a", rate)).allowed for _ in range(11)]
    assert burst == [True] * 10 + [False]
    refused = await limiter.hit("a", rate)
    assert refused.retry_after == pytest.approx(0.1)

    clock.now += 0.1
    assert (await limiter.hit("a", rate)).allowed
    assert not (await limiter.hit("a", rate)).allowed
    assert (await limiter.hit("b", rate)).allowed  # each key has its own budget

    clock.now += 1.0
    assert [(await limiter.hit("a", rate)).allowed for _ in range(11)] == [True] * 10 + [False]


async def test_gcra_has_no_window_edge_that_lets_twice_the_rate_through() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    rate = Rate.parse("10/s")
    clock.now = 1000.95
    first = sum([(await limiter.hit("a", rate)).allowed for _ in range(20)])
    clock.now = 1001.05  # just past a fixed window's edge
    second = sum([(await limiter.hit("a", rate)).allowed for _ in range(20)])
    assert first + second == 11


async def test_peek_does_not_count() -> None:
    limiter = MemoryRateLimiter(FakeClock())
    rate = Rate.parse("1/minute")
    assert (await limiter.peek("k", rate)).allowed
    assert (await limiter.peek("k", rate)).allowed
    assert (await limiter.hit("k", rate)).allowed
    decision = await limiter.peek("k", rate)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(60)


@pytest.fixture
async def redis_limiter(redis_url: str) -> Any:
    limiter = RedisRateLimiter(
        Redis.from_url(redis_url), prefix=f"printcloud-test:{secrets.token_hex(4)}:"
    )
    yield limiter
    await limiter.close()


async def test_redis_gcra_allows_a_burst_then_refuses(redis_limiter: RedisRateLimiter) -> None:
    rate = Rate.parse("5/minute")
    results = [await redis_limiter.hit("acc", rate) for _ in range(6)]
    assert [r.allowed for r in results] == [True] * 5 + [False]
    assert 11 < results[-1].retry_after <= 12
    assert not (await redis_limiter.peek("acc", rate)).allowed
    assert (await redis_limiter.peek("other", rate)).allowed


async def test_two_instances_share_one_budget_through_redis(
    runtime_factory: Any, redis_url: str, account: TestAccount
) -> None:
    # Two app instances (as two servers of a cluster) on the same Redis and database.
    apps = [
        create_app(runtime=runtime_factory(rate_limit="6/minute", redis_url=redis_url))
        for _ in range(2)
    ]
    statuses = []
    async with client_for(apps[0]) as first, client_for(apps[1]) as second:
        for index in range(8):
            client = first if index % 2 == 0 else second
            statuses.append((await client.get("/api/printers", auth=account.auth())).status_code)
    assert statuses == [200] * 6 + [429, 429]


async def test_in_process_limits_are_per_instance(
    runtime_factory: Any, account: TestAccount
) -> None:
    # Without Redis each process has its own budget: the embedded shape has one process.
    apps = [create_app(runtime=runtime_factory(rate_limit="2/minute")) for _ in range(2)]
    statuses = []
    async with client_for(apps[0]) as first, client_for(apps[1]) as second:
        for client in (first, first, first, second):
            statuses.append((await client.get("/api/printers", auth=account.auth())).status_code)
    assert statuses == [200, 200, 429, 200]


async def test_accounts_have_separate_budgets(
    runtime_factory: Any, account: TestAccount, other_account: TestAccount
) -> None:
    app = create_app(runtime=runtime_factory(rate_limit="1/minute"))
    async with client_for(app) as client:
        assert (await client.get("/api/printers", auth=account.auth())).status_code == 200
        assert (await client.get("/api/printers", auth=account.auth())).status_code == 429
        assert (await client.get("/api/printers", auth=other_account.auth())).status_code == 200


async def test_without_redis_the_limiter_counts_here_and_says_so_once() -> None:
    now = [100.0]
    with private_directory() as directory:
        redis = PrivateRedis(directory)  # its port: nothing listens there yet
        limiter = FallbackRateLimiter(
            RedisRateLimiter(redis_client(redis.url)),
            MemoryRateLimiter(clock=lambda: now[0]),
            clock=lambda: now[0],
        )
        rate = Rate(2, 1.0)
        try:
            with capture_logs() as logs:
                # The in-process budget, not an error: two, then refused.
                decisions = [(await limiter.hit("api:acc", rate)).allowed for _ in range(3)]
                assert decisions == [True, True, False]
                assert not (await limiter.peek("api:acc", rate)).allowed
                redis.start()
                try:
                    # Redis is asked again once the retry interval has passed.
                    now[0] += 1.5
                    assert (await limiter.hit("api:other", rate)).allowed
                    assert (await limiter.hit("api:other", rate)).allowed
                    assert not (await limiter.hit("api:other", rate)).allowed
                finally:
                    redis.kill()
        finally:
            await limiter.close()
    assert [(e["event"], e["dependency"]) for e in logs if "dependency" in e] == [
        ("dependency_unavailable", "redis"),
        ("dependency_available_again", "redis"),
    ]
