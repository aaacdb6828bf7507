"""Restarts with agents connected: all servers at once with jobs queued, and one at a time
(rolling, in the cluster) with jobs flowing.

Both measure what the offices see: how long until every agent is back, how many
handshakes the server refused on purpose (1013, "try again later") against how many
failed, and when the jobs arrived; none lost, none delivered twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from bench.load.options import PER_ACCOUNT_RATE
from bench.load.shared import Bench, delivery_counts, drain, last_states, log, unfinished
from bench.load.submit import open_loop
from bench.load.timeline import cumulative, first_after, offline_gaps, percentile

NS = 1e9
# A load balancer's drain: the requests already sent to a server finish before it stops.
DRAIN_SECONDS = 1.0
SAMPLE_SECONDS = 0.1


async def restart(bench: Bench) -> dict[str, Any]:
    """SIGTERM every server with the agents held off, queue jobs for them, then release
    them all at once: the storm a deploy causes."""
    options, fleet = bench.options, bench.fleet
    log(f"restart: queueing {options.queued_count} jobs for {options.agents} absent agents")
    before = fleet.log.counts()
    fleet.may_connect.clear()
    stopping = time.monotonic()
    shutdown = await asyncio.to_thread(bench.stack.restart)
    restart_seconds = time.monotonic() - stopping
    await fleet.wait_disconnected(timeout=60)
    fleet.urls = bench.stack.ws_urls
    rate = min(options.account_count * PER_ACCOUNT_RATE, 2000.0)
    queued = await open_loop(
        bench.poster, bench.stack.urls, bench.all_targets, rate, options.queued_count / rate
    )
    released = time.monotonic_ns()
    fleet.may_connect.set()
    all_back = await fleet.wait_ready(options.agents, timeout=max(120, options.drain_timeout))
    missing = await drain(bench, queued.sent_at, max(60, options.drain_timeout))
    back = first_after(fleet.log.ready_log, released).values()
    delivered = [fleet.log.received[job][0] for job in queued.sent_at if job in fleet.log.received]
    completed = [
        bench.receiver.log.completed[job][0]
        for job in queued.sent_at
        if job in bench.receiver.log.completed
    ]
    return {
        "agents": options.agents,
        "shutdown_seconds": [round(seconds, 2) for seconds in shutdown],
        "server_restart_seconds": round(restart_seconds, 2),
        "queued_jobs": len(queued.sent_at),
        "queue_failures": dict(queued.failures),
        "all_agents_back": all_back,
        "agents_back": len(back),
        "agents_back_seconds": _last(back, released, all_back),
        "handshakes": _handshakes(fleet.log.counts() - before),
        "jobs_delivered_seconds": _last(delivered, released, len(delivered) == len(queued.sent_at)),
        "jobs_completed_seconds": _last(completed, released, missing == 0),
        "not_finished": missing,
        "not_finished_states": last_states(bench, unfinished(bench, queued.sent_at)),
        **delivery_counts(queued.sent_at, fleet.log.received),
        "series": {
            "agents_back": cumulative(back, released),
            "jobs_delivered": cumulative(delivered, released),
        },
    }


async def rolling_restart(bench: Bench) -> dict[str, Any]:
    """With jobs flowing, restart each server in turn, as a deploy behind a load balancer.

    The balancer stops sending a server requests before it is stopped and sends them
    again once it is back; agents whose server went away reconnect to a live one.
    """
    options, fleet, stack = bench.options, bench.fleet, bench.stack
    log(f"rolling restart: {options.rolling_rate:g} jobs/s, {len(stack.servers)} servers")
    before = fleet.log.counts()
    pool = list(stack.urls)  # the balancer's pool for the submitters, changed in place
    finished = asyncio.Event()
    started = time.monotonic_ns()
    flow = asyncio.create_task(
        open_loop(bench.poster, pool, bench.all_targets, options.rolling_rate, 0, until=finished)
    )
    connected = asyncio.create_task(_sample(lambda: fleet.ready_count, started, finished))
    events: list[dict[str, Any]] = []

    def event(what: str, server: int) -> None:
        seconds = round((time.monotonic_ns() - started) / NS, 3)
        events.append({"seconds": seconds, "event": what, "server": server})

    await asyncio.sleep(options.settle_seconds)
    shutdown = []
    for index in range(len(stack.servers)):
        leaving = stack.servers[index]
        pool.remove(leaving.url)
        fleet.urls = [s.ws_url for s in stack.servers if s is not leaving]
        event("drain", index)
        await asyncio.sleep(DRAIN_SECONDS)
        event("SIGTERM", index)
        shutdown.append(await asyncio.to_thread(stack.replace, index))
        event("back", index)
        pool.append(stack.servers[index].url)
        fleet.urls = stack.ws_urls
        await asyncio.sleep(options.settle_seconds)
    finished.set()
    submissions = await flow
    series = await connected
    missing = await drain(bench, submissions.sent_at, max(60, options.drain_timeout))
    all_back = await fleet.wait_ready(options.agents, timeout=max(120, options.drain_timeout))
    gaps, never = offline_gaps(fleet.log.closed_log, fleet.log.ready_log, started)
    delivered = [fleet.log.received[j][0] for j in submissions.sent_at if j in fleet.log.received]
    return {
        "agents": options.agents,
        "rate": options.rolling_rate,
        "shutdown_seconds": [round(seconds, 2) for seconds in shutdown],
        "events": events,
        "posts": submissions.attempted,
        "failed_posts": sum(submissions.failures.values()),
        "post_failures": dict(submissions.failures),
        # A late generator sends in bursts, which the servers' rate limit may refuse.
        "post_201_ms": submissions.post_latency.summary(),
        "generator_lag_ms": submissions.generator_lag.summary(),
        "accepted": len(submissions.sent_at),
        "not_finished": missing,
        "not_finished_states": last_states(bench, unfinished(bench, submissions.sent_at)),
        # By the second they were sent in: beside the events, the step they fell in.
        "not_finished_by_second": dict(
            sorted(
                Counter(
                    int((submissions.sent_at[job] - started) / NS)
                    for job in unfinished(bench, submissions.sent_at)
                ).items()
            )
        ),
        **delivery_counts(submissions.sent_at, fleet.log.received),
        "handshakes": _handshakes(fleet.log.counts() - before),
        "agents_offline": len(gaps) + len(never),
        "agents_not_back": len(never),
        "all_agents_back": all_back,
        "offline_seconds": {
            "max": _round(max(gaps.values(), default=None)),
            "p99": _round(percentile(gaps.values(), 0.99)),
        },
        "series": {
            "agents_connected": series,
            "jobs_accepted": cumulative(submissions.sent_at.values(), started),
            "jobs_delivered": cumulative(delivered, started),
        },
    }


async def _sample(
    read: Callable[[], int], origin_ns: int, finished: asyncio.Event
) -> list[list[float]]:
    """``read()`` every SAMPLE_SECONDS until ``finished``: ``[[seconds, value], ...]``."""
    rows = []
    while True:
        rows.append([round((time.monotonic_ns() - origin_ns) / NS, 3), read()])
        if finished.is_set():
            return rows
        await asyncio.sleep(SAMPLE_SECONDS)


def _handshakes(counts: Counter[str]) -> dict[str, Any]:
    """Refused on purpose (1013) against failed any other way, and sessions lost."""
    failed = {k.removeprefix("failed: "): v for k, v in counts.items() if k.startswith("failed: ")}
    return {
        "refused": counts["refused"],
        "failed": sum(failed.values()),
        "failed_by_kind": failed,
        "disconnects": counts["disconnects"],
    }


def _last(times: Iterable[int], origin_ns: int, complete: bool) -> float | None:
    """Seconds from ``origin_ns`` to the last of ``times``; None unless all arrived."""
    last = max(times, default=None)
    if not complete or last is None:
        return None
    return round((last - origin_ns) / NS, 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
