"""What every phase of a run shares: the bench, waiting for its jobs, the delivery rules."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from bench.load.accounts import BenchAccount
from bench.load.agents import Fleet
from bench.load.hooks import Receiver
from bench.load.lean_http import LeanHttp
from bench.load.options import Options
from bench.load.stack import Stack
from bench.load.submit import Target

from printcloud.protocol.job_states import FINAL_STATES


@dataclass
class Bench:
    """What the phases share."""

    options: Options
    stack: Stack
    client: httpx.AsyncClient
    poster: LeanHttp  # the submitters' HTTP client
    fleet: Fleet
    receiver: Receiver
    accounts: list[BenchAccount]
    targets: list[Target]  # the active agents' printers
    all_targets: list[Target]  # every agent's printer
    accepted: dict[str, int]  # every job accepted in the run: id -> scheduled send time


async def drain(bench: Bench, jobs: dict[str, int], timeout: float) -> int:
    """Wait until every job reached its agent and its ``completed`` webhook, or ended
    otherwise (it never will); how many did not complete."""
    bench.accepted |= jobs
    waiting = set(jobs)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        waiting = {job for job in waiting if not _ended(bench, job)}
        await asyncio.sleep(0.05)
    return len(unfinished(bench, jobs))


def _ended(bench: Bench, job: str) -> bool:
    if job in bench.receiver.log.completed:
        return job in bench.fleet.log.received
    return any(state in FINAL_STATES for state, _ in bench.receiver.log.jobs.get(job, ()))


def unfinished(bench: Bench, jobs: Iterable[str]) -> list[str]:
    """The jobs that did not reach their agent and complete."""
    received, completed = bench.fleet.log.received, bench.receiver.log.completed
    return [job for job in jobs if job not in received or job not in completed]


def last_states(bench: Bench, jobs: Iterable[str]) -> dict[str, int]:
    """How many of these jobs were last reported in each state (by webhook)."""
    events = bench.receiver.log.jobs
    return dict(Counter(events[job][-1][0] if job in events else "none" for job in jobs))


def delivery_counts(jobs: Iterable[str], received: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Exactly once: how many of these jobs reached an agent, none, or more than once."""
    counts = [len(received.get(job, ())) for job in jobs]
    return {
        "delivered": sum(1 for count in counts if count),
        "lost": sum(1 for count in counts if not count),
        "duplicates": sum(count - 1 for count in counts if count > 1),
    }


def delivery_check(bench: Bench) -> dict[str, Any]:
    """Exactly once: every accepted job reached an agent once; nothing else arrived."""
    received = bench.fleet.log.received
    completed = bench.receiver.log.completed
    return {
        "accepted": len(bench.accepted),
        **delivery_counts(bench.accepted, received),
        "unexpected": sum(1 for job in received if job not in bench.accepted),
        "completed_webhooks": sum(1 for job in bench.accepted if job in completed),
        "duplicate_completed_webhooks": sum(len(v) - 1 for v in completed.values() if len(v) > 1),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
