"""The one way background work is scheduled: wake-ups, full batches, failures."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from printcloud.server.db.outage import DatabaseUnavailable
from printcloud.server.periodic import Periodic


async def test_wake_runs_the_next_pass_before_the_interval() -> None:
    passes: asyncio.Queue[int] = asyncio.Queue()

    async def work() -> bool:
        passes.put_nowait(passes.qsize())
        return False

    worker = Periodic("test", work, interval=3600, first_delay=0)
    worker.start()
    try:
        await asyncio.wait_for(passes.get(), 10)  # the first pass, at once
        worker.wake()
        await asyncio.wait_for(passes.get(), 10)  # not an hour later
    finally:
        await worker.stop()


async def test_a_full_batch_is_followed_at_once_by_another_pass() -> None:
    left = [True, True, False]  # two full batches, then the rest
    done = asyncio.Event()

    async def work() -> bool:
        more = left.pop(0)
        if not left:
            done.set()
        return more

    worker = Periodic("test", work, interval=3600, first_delay=0)
    worker.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await worker.stop()
    assert left == []


async def test_a_failing_pass_is_logged_and_the_worker_goes_on() -> None:
    calls = 0
    second = asyncio.Event()

    async def work() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        second.set()
        return False

    worker = Periodic("test", work, interval=0.01, first_delay=0)
    worker.start()
    try:
        await asyncio.wait_for(second.wait(), 10)
    finally:
        await worker.stop()
    assert calls >= 2


async def test_stop_ends_the_worker_and_may_be_called_twice() -> None:
    started = asyncio.Event()

    async def work() -> bool:
        started.set()
        return False

    worker = Periodic("test", work, interval=3600, first_delay=0)
    worker.start()
    await asyncio.wait_for(started.wait(), 10)
    await worker.stop()
    await worker.stop()


async def test_a_pass_the_database_outage_failed_is_not_logged_as_a_failure() -> None:
    # The outage is logged once where it is noticed; a worker polling twice a second
    # through it would otherwise write a traceback each time.
    calls = 0
    second = asyncio.Event()

    async def work() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DatabaseUnavailable("connection refused")
        second.set()
        return False

    worker = Periodic("test", work, interval=0.01, first_delay=0)
    with capture_logs() as logs:
        worker.start()
        try:
            await asyncio.wait_for(second.wait(), 10)
        finally:
            await worker.stop()
    assert [e["event"] for e in logs if e["log_level"] != "debug"] == []
