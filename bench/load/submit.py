"""Open-loop submitters: POST /api/printjobs at a fixed arrival rate.

Send times are fixed in advance (start + i / rate) and each POST is its own task, so a
slow server cannot slow the arrivals and hide its latency (no coordinated omission).
Latencies are taken from the scheduled send time; how late the generator itself was
is reported as ``generator_lag``, so a starved generator shows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.load.lean_http import LeanHttp
from bench.load.measure import Latency

DOCUMENT = "SGVsbG8sIFByaW50Q2xvdWQhCg=="  # "Hello, PrintCloud!\n": a RAW job, tiny on purpose


@dataclass(frozen=True)
class Target:
    """Where one job goes: an account's credentials and one of its printers."""

    authorization: str
    printer_id: str


@dataclass
class Submissions:
    """Every accepted job with its scheduled send time, and what went wrong."""

    sent_at: dict[str, int] = field(default_factory=dict)
    post_latency: Latency = field(default_factory=Latency)
    generator_lag: Latency = field(default_factory=Latency)
    failures: Counter[str] = field(default_factory=Counter)
    attempted: int = 0
    started_ns: int = 0
    finished_ns: int = 0


async def post_job(
    client: LeanHttp, base_url: str, target: Target, scheduled: int, into: Submissions
) -> None:
    into.attempted += 1
    body = (
        f'{{"printerId":"{target.printer_id}","contentType":"raw_base64",'
        f'"content":"{DOCUMENT}","title":"Bench job"}}'
    ).encode()
    try:
        status, answer = await client.post_json(
            f"{base_url}/api/printjobs", body, target.authorization
        )
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
        into.failures[type(error).__name__] += 1
        return
    answered = time.monotonic_ns()
    if status != 201:
        into.failures[str(status)] += 1
        return
    into.post_latency.record_ns(answered - scheduled)
    into.sent_at[json.loads(answer)] = scheduled


async def open_loop(
    client: LeanHttp,
    urls: list[str],
    targets: list[Target],
    rate: float,
    seconds: float,
    *,
    until: asyncio.Event | None = None,
) -> Submissions:
    """POST ``rate`` jobs a second for ``seconds`` (or until ``until`` is set), cycling
    through ``targets``.

    Each job goes to a server picked at random from ``urls`` as it is then: with two
    servers, half the jobs reach the instance that does not hold the agent's socket (the
    bus carries the wake-up). A caller may change the list while this runs, as a load
    balancer takes a server out of its pool and back.
    """
    into = Submissions()
    pick = random.Random(7)
    count = max(1, round(rate * seconds)) if until is None else None
    interval = 1e9 / rate
    start = time.monotonic_ns()
    tasks: set[asyncio.Task[None]] = set()
    into.started_ns = start
    for index in itertools.count():
        if index == count or (until is not None and until.is_set()):
            break
        scheduled = start + int(index * interval)
        delay = scheduled - time.monotonic_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        into.generator_lag.record_ns(max(0, time.monotonic_ns() - scheduled))
        target = targets[index % len(targets)]
        url = urls[pick.randrange(len(urls))]
        task = asyncio.create_task(post_job(client, url, target, scheduled, into))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    into.finished_ns = time.monotonic_ns()
    return into
