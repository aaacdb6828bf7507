"""One run: the server, the receiver, the accounts and agents, the window, the checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench.lifecycle.loop import ClosedLoop, Submitted
from bench.lifecycle.options import Options
from bench.lifecycle.processes import py_spy, receiver_process
from bench.lifecycle.receiver import ReceiverClient
from bench.load.accounts import BenchAccount, create_users, open_accounts, printer_ids
from bench.load.agents import Fleet, FleetLog
from bench.load.lean_http import LeanHttp
from bench.load.measure import CpuMeter, Latency
from bench.load.stack import bench_settings, running_stack
from bench.load.submit import Target

# One `job.state` delivery for each state the server reports for a job that printed.
EXPECTED_STATES = ("sent", "printing", "completed")
# The bench measures the server's cost, not its protection: no account is ever refused.
RATE_LIMIT = "1000000/s"


async def run(options: Options) -> dict[str, Any]:
    settings = bench_settings(options.agents, options.accounts)
    settings["PRINTCLOUD_RATE_LIMIT"] = RATE_LIMIT
    result: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "options": options.as_json(),
        "server_settings": settings,
    }
    with tempfile.TemporaryDirectory(prefix="printcloud-lifecycle-") as name:
        folder = Path(name)
        async with contextlib.AsyncExitStack() as stack:
            hooks = None
            if options.webhooks:
                hooks = await stack.enter_async_context(receiver_process(folder))
            servers = await stack.enter_async_context(running_stack("embedded", folder, settings))
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
            log(f"server up at {servers.urls[0]}")
            emails = await create_users(servers.database_url, options.accounts)
            accounts = await open_accounts(
                client, servers.urls[0], emails, hooks.url if hooks else None
            )
            if hooks is not None:
                await hooks.add_secrets({a.index: a.webhook_secret for a in accounts})
            fleet = Fleet(servers.ws_urls, [a.api_key for a in accounts], options.agents)
            stack.push_async_callback(fleet.stop)
            poster = LeanHttp(connections=options.submitters)
            stack.push_async_callback(poster.aclose)
            await fleet.start(range(options.agents), timeout=60)
            targets = await agent_targets(client, servers.urls[0], accounts, fleet)
            loop = ClosedLoop(poster, servers.urls[0], targets, wait=options.wait_for != "post")
            if options.wait_for == "lifecycle":
                fleet.on_completed = loop.finish
            if options.wait_for == "webhook" and hooks is not None:
                follower = asyncio.create_task(follow_webhooks(hooks, loop))
                stack.callback(follower.cancel)
            result |= await measure(options, servers.pids[0], loop, fleet, hooks)
    return result


async def agent_targets(
    client: httpx.AsyncClient, url: str, accounts: list[BenchAccount], fleet: Fleet
) -> list[Target]:
    """Each agent's printer, in agent order."""
    by_name: dict[str, str] = {}
    for account in accounts:
        by_name |= await printer_ids(client, url, account)
    return [
        Target(accounts[fleet.account_of(i)].authorization, by_name[fleet.computer_name(i)])
        for i in range(fleet.count)
    ]


async def follow_webhooks(hooks: ReceiverClient, loop: ClosedLoop) -> None:
    """Finish each job once the receiver verified its ``completed`` delivery."""
    seen = 0
    while True:
        jobs = await hooks.completed(after=seen)
        seen += len(jobs)
        for job in jobs:
            loop.finish(job)


async def measure(
    options: Options,
    server_pid: int,
    loop: ClosedLoop,
    fleet: Fleet,
    hooks: ReceiverClient | None,
) -> dict[str, Any]:
    load_before = os.getloadavg()
    log(f"warming up {options.warmup:g} s with {options.submitters} submitters")
    loop.start(options.submitters)
    await asyncio.sleep(options.warmup)
    log(f"measuring {options.seconds:g} s")
    with py_spy(server_pid, options.seconds, options.profile):
        meter = CpuMeter([server_pid])
        receiver_meter = CpuMeter([hooks.pid] if hooks else [])
        start = time.monotonic_ns()
        await asyncio.sleep(options.seconds)
        end = time.monotonic_ns()
        cpu = meter.read()
        if hooks is not None:
            cpu["receiver_cpu_percent"] = receiver_meter.read()["server_cpu_percent"]
    log("stopping the submitters; draining")
    stopped = time.monotonic()
    await loop.stop(timeout=options.drain_timeout)
    remaining = max(1.0, options.drain_timeout - (time.monotonic() - stopped))
    unfinished = await drain(loop.jobs, fleet.log, hooks, remaining)
    drain_seconds = time.monotonic() - stopped
    deliveries: dict[str, list[list[Any]]] = {}
    hook_stats: dict[str, Any] | None = None
    if hooks is not None:
        hook_stats = await hooks.stats()
        deliveries = hook_stats.pop("jobs")
    window = Window(start, end)
    figures = window_figures(window, loop.jobs, fleet.log, deliveries, options)
    # The server's own CPU per job: comparable across runs that other work slowed down.
    completed = figures["completed_by_agents"]
    server_ms = cpu["server_cpu_percent"] * 10 * window.seconds
    figures["server_cpu_ms_per_lifecycle"] = round(server_ms / completed, 2) if completed else None
    return {
        "load_average_before": [round(value, 2) for value in load_before],
        "window_seconds": round(window.seconds, 3),
        "window": figures,
        "cpu_percent": cpu,
        "drain_seconds": round(drain_seconds, 2),
        "unfinished_after_drain": unfinished,
        "delivery": delivery_check(loop.jobs, fleet.log),
        "webhooks": None
        if hook_stats is None
        else webhook_check(loop.jobs, deliveries, hook_stats),
    }


async def drain(
    jobs: Submitted, fleet: FleetLog, hooks: ReceiverClient | None, timeout: float
) -> int:
    """Wait until every accepted job was completed by its agent and, with webhooks, all
    its deliveries were verified; how many jobs were still short of that."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = [job for job in jobs.sent if job not in fleet.completed]
        hooks_short = 0
        if hooks is not None:
            count = await hooks.count()
            hooks_short = max(0, len(EXPECTED_STATES) * len(jobs.sent) - count["verified"])
        if (not waiting and not hooks_short) or time.monotonic() > deadline:
            return len(waiting) + -(-hooks_short // len(EXPECTED_STATES))
        await asyncio.sleep(0.1)


class Window:
    """The measured span, in monotonic_ns."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.seconds = (end - start) / 1e9

    def __contains__(self, at: int) -> bool:
        return self.start <= at < self.end


def window_figures(
    window: Window,
    jobs: Submitted,
    fleet: FleetLog,
    deliveries: dict[str, list[list[Any]]],
    options: Options,
) -> dict[str, Any]:
    post_201, to_completed, to_webhook = Latency(), Latency(), Latency()
    posted = 0
    for job, answered in jobs.answered.items():
        if answered in window:
            posted += 1
            post_201.record_ns(answered - jobs.sent[job])
    completed = 0
    for job, sent in jobs.sent.items():
        times = fleet.completed.get(job)
        if times and times[0] in window:
            completed += 1
            to_completed.record_ns(times[0] - sent)
    delivered = 0
    for job, received in deliveries.items():
        for state, at in received:
            if at in window:
                delivered += 1
                if state == "completed" and job in jobs.sent:
                    to_webhook.record_ns(at - jobs.sent[job])
    lifecycles = completed / window.seconds
    figures: dict[str, Any] = {
        "posted_201": posted,
        "posted_per_s": round(posted / window.seconds, 1),
        "completed_by_agents": completed,
        "lifecycles_per_s": round(lifecycles, 1),
        # Jobs accepted in the window and not yet completed in it: a growing queue.
        "backlog_growth": posted - completed,
        "latency_ms": {
            "post_201": post_201.summary(),
            "post_to_completed_report": to_completed.summary(),
        },
    }
    if options.webhooks:
        per_s = delivered / window.seconds
        figures |= {
            "webhook_deliveries": delivered,
            "webhook_deliveries_per_s": round(per_s, 1),
            "webhook_deliveries_per_completed_job": round(delivered / completed, 2)
            if completed
            else None,
            # The rate the webhooks keep up with: a job's life ends with its last delivery.
            "sustained_lifecycles_per_s": round(min(lifecycles, per_s / len(EXPECTED_STATES)), 1),
        }
        figures["latency_ms"]["post_to_completed_webhook"] = to_webhook.summary()
    return figures


def delivery_check(jobs: Submitted, fleet: FleetLog) -> dict[str, int]:
    """Every accepted job completed by an agent, each delivered to an agent once."""
    received = fleet.received
    counts = [len(received.get(job, ())) for job in jobs.sent]
    return {
        "accepted": len(jobs.sent),
        "completed_by_agents": sum(1 for job in jobs.sent if job in fleet.completed),
        "lost": sum(1 for job in jobs.sent if job not in fleet.completed),
        "delivered_twice_or_more": sum(1 for count in counts if count > 1),
        "unexpected": sum(1 for job in received if job not in jobs.sent),
        "post_failures": sum(jobs.failures.values()),
        **{f"post_failure_{name}": count for name, count in jobs.failures.items()},
    }


def webhook_check(
    jobs: Submitted, deliveries: dict[str, list[list[Any]]], stats: dict[str, Any]
) -> dict[str, Any]:
    """Every accepted job's three states delivered and verified, none twice."""
    complete = short = repeated = 0
    for job in jobs.sent:
        states = [state for state, _at in deliveries.get(job, ())]
        if sorted(states) == sorted(EXPECTED_STATES):
            complete += 1
        elif len(set(states)) < len(states):
            repeated += 1
        else:
            short += 1
    return {
        "verified": stats["verified"],
        "failed_verification": stats["failed"],
        "states": stats["states"],
        "jobs_with_each_state_once": complete,
        "jobs_short_of_deliveries": short,
        "jobs_with_a_state_twice": repeated,
        "unexpected_jobs": sum(1 for job in deliveries if job not in jobs.sent),
    }


def _commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a user runs it
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return None


def log(message: str) -> None:
    print(f"[lifecycle {time.strftime('%H:%M:%S')}] {message}", flush=True)
