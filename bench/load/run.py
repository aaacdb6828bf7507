"""One shape, start to end: servers, accounts, agents, the phases, the results."""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from bench.load import floor
from bench.load.accounts import create_users, open_accounts, printer_ids
from bench.load.agents import Fleet
from bench.load.hooks import Receiver
from bench.load.lean_http import LeanHttp
from bench.load.measure import CpuMeter, Latency, rss_bytes
from bench.load.options import Options
from bench.load.preload import preload
from bench.load.restart import restart, rolling_restart
from bench.load.shared import Bench, delivery_check, drain, log
from bench.load.stack import Stack, bench_settings, inherited_settings, running_stack
from bench.load.submit import Submissions, Target, open_loop
from tests.helpers.live_server import serve_asgi

MEMORY_SAMPLES = 8


async def run_shape(shape: str, options: Options) -> dict[str, Any]:
    settings = bench_settings(options.agents, options.account_count)
    result: dict[str, Any] = {
        "shape": shape,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # Others' work on the machine shows in its load (1, 5, 15 min) before and after.
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": os.getloadavg(),
        },
        "options": options.as_json(),
        "server_settings": inherited_settings() | settings,
    }
    receiver = Receiver()
    hook_config = uvicorn.Config(receiver, log_level="warning", lifespan="off", access_log=False)
    with tempfile.TemporaryDirectory(prefix="printcloud-bench-") as folder:
        async with (
            serve_asgi(hook_config) as hook_url,
            running_stack(shape, Path(folder), settings) as stack,
            httpx.AsyncClient(timeout=60) as client,  # the set-up's calls; not measured
        ):
            log(f"{shape}: servers up at {', '.join(stack.urls)}")
            if options.scenario == "full":
                result["floor"] = await measure_floor(stack, options, Path(folder))
            emails = await create_users(stack.database_url, options.account_count)
            accounts = await open_accounts(client, stack.urls[0], emails, hook_url)
            for account in accounts:
                receiver.add_secret(account.index, account.webhook_secret)
            fleet = Fleet(stack.ws_urls, [a.api_key for a in accounts], options.agents)
            poster = LeanHttp(connections=64)
            bench = Bench(options, stack, client, poster, fleet, receiver, accounts, [], [], {})
            try:
                if options.scenario == "full":
                    await run_phases(bench, result)
                    result["restart"] = await restart(bench)
                else:
                    await restarts(bench, result)
            finally:
                await fleet.stop()
                await poster.aclose()
            result["machine"]["load_average_after"] = os.getloadavg()
            result["delivery"] = delivery_check(bench)
            result["webhooks"] = {
                "verified": receiver.log.verified,
                "failed_verification": receiver.log.failed,
                "states": dict(receiver.log.states),
            }
    return result


async def run_phases(bench: Bench, result: dict[str, Any]) -> None:
    options = bench.options
    memory = result.setdefault("memory", {})
    await asyncio.sleep(1)
    samples = [{"connections": 0, "rss_bytes": server_rss(bench.stack)}]
    log(f"connecting {options.active_count} active agents")
    started = time.monotonic()
    await bench.fleet.start(range(options.active_count))
    connecting = time.monotonic() - started
    samples.append({"connections": options.active_count, "rss_bytes": server_rss(bench.stack)})
    bench.all_targets = await agent_targets(bench)
    bench.targets = bench.all_targets[: options.active_count]
    steps = result.setdefault("load", [])
    steps.append(await load_step(bench, "baseline (active agents only)", options.reference_rate))

    log(f"connecting {options.agents - options.active_count} idle agents")
    step = max(1, (options.agents - options.active_count) // MEMORY_SAMPLES)
    for start in range(options.active_count, options.agents, step):
        started = time.monotonic()
        await bench.fleet.start(range(start, min(start + step, options.agents)))
        connecting += time.monotonic() - started
        await asyncio.sleep(0.5)  # let the server settle before reading its RSS
        samples.append(
            {"connections": min(start + step, options.agents), "rss_bytes": server_rss(bench.stack)}
        )
    bench.all_targets = await agent_targets(bench)
    memory |= {
        "server_samples": samples,
        "per_agent_bytes": round(
            (samples[-1]["rss_bytes"] - samples[0]["rss_bytes"]) / max(options.agents, 1)
        ),
        "connect_seconds": round(connecting, 2),
        "connect_per_s": round(options.agents / connecting) if connecting else None,
    }
    steps.append(await load_step(bench, f"with {options.agents} agents", options.reference_rate))
    for rate in options.rates:
        steps.append(await load_step(bench, "ladder", rate))

    if options.preload:
        log(f"preloading {options.preload} finished jobs")
        result["preload"] = await preload(bench.stack.database_url, options.preload)
        steps.append(
            await load_step(
                bench, f"with {options.preload} jobs of history", options.reference_rate
            )
        )


async def restarts(bench: Bench, result: dict[str, Any]) -> None:
    """Every agent connected, then the restart and, in the cluster, the rolling restart."""
    log(f"connecting {bench.options.agents} agents")
    await bench.fleet.start(range(bench.options.agents))
    bench.all_targets = bench.targets = await agent_targets(bench)
    result["restart"] = await restart(bench)
    if len(bench.stack.servers) > 1:
        result["rolling_restart"] = await rolling_restart(bench)


def server_rss(stack: Stack) -> int:
    return sum(rss_bytes(pid) for pid in stack.pids)


async def agent_targets(bench: Bench) -> list[Target]:
    """Every connected agent's printer, in agent order."""
    by_name: dict[str, str] = {}
    for account in bench.accounts:
        by_name |= await printer_ids(bench.client, bench.stack.urls[0], account)
    targets = []
    for index in range(bench.fleet.count):
        name = bench.fleet.computer_name(index)
        if name in by_name:
            account = bench.accounts[bench.fleet.account_of(index)]
            targets.append(Target(account.authorization, by_name[name]))
    return targets


async def load_step(bench: Bench, phase: str, rate: float) -> dict[str, Any]:
    """Offer ``rate`` jobs/s for the set time, then wait for every job's end."""
    log(f"{phase}: {rate:g} jobs/s for {bench.options.seconds:g} s")
    meter = CpuMeter(bench.stack.pids)
    submissions = await open_loop(
        bench.poster, bench.stack.urls, bench.targets, rate, bench.options.seconds
    )
    cpu = meter.read()  # over the offered period, not the drain
    missing = await drain(bench, submissions.sent_at, bench.options.drain_timeout)
    return summarize_step(
        bench, phase=phase, rate=rate, submissions=submissions, missing=missing, cpu=cpu
    )


def summarize_step(
    bench: Bench,
    *,
    phase: str,
    rate: float,
    submissions: Submissions,
    missing: int,
    cpu: dict[str, float],
) -> dict[str, Any]:
    to_agent, to_webhook = Latency(), Latency()
    last_done = submissions.started_ns
    for job, sent in submissions.sent_at.items():
        if job in bench.fleet.log.received:
            to_agent.record_ns(bench.fleet.log.received[job][0] - sent)
        if job in bench.receiver.log.completed:
            done = bench.receiver.log.completed[job][0]
            to_webhook.record_ns(done - sent)
            last_done = max(last_done, done)
    offered_seconds = max(submissions.finished_ns - submissions.started_ns, 1) / 1e9
    lifecycle_seconds = max(last_done - submissions.started_ns, 1) / 1e9
    achieved = len(submissions.sent_at) / offered_seconds
    return {
        "phase": phase,
        "bottleneck": bottleneck(cpu, rate, achieved, len(bench.stack.pids)),
        "offered_per_s": rate,
        "attempted": submissions.attempted,
        "accepted": len(submissions.sent_at),
        "failures": dict(submissions.failures),
        "not_finished": missing,
        "achieved_post_per_s": round(achieved, 1),
        "achieved_jobs_per_s": round(to_webhook.count / lifecycle_seconds, 1),
        "latency_ms": {
            "post_201": submissions.post_latency.summary(),
            "post_to_agent": to_agent.summary(),
            "post_to_completed_webhook": to_webhook.summary(),
            "generator_lag": submissions.generator_lag.summary(),
        },
        **cpu,
    }


def bottleneck(cpu: dict[str, float], offered: float, achieved: float, servers: int) -> str:
    """Which side limited the step, from CPU use over the offered period.

    The generator is one process: near a full core, its figures bound the server's from
    below. Each server is one process too (one core at most). With every core busy
    (the database and Redis count), the machine is the limit.
    """
    if cpu["generator_cpu_percent"] >= 85:
        return "generator"
    if cpu["server_cpu_percent"] >= 85 * servers:
        return "server"
    if cpu["machine_cpu_percent"] >= 90 * (os.cpu_count() or 1):
        return "machine CPU"
    if achieved < 0.95 * offered:
        return "server (not CPU: waits)"
    return "none"


async def measure_floor(stack: Stack, options: Options, folder: Path) -> dict[str, Any]:
    """The machine's own figures: WebSocket echo (memory, latency) and one DB commit."""
    log("floor: WebSocket echo and one database commit")
    connections = options.echo_connections or options.agents
    async with floor.echo_server(stack.env, folder / "echo.log") as (url, pid):
        memory = await floor.echo_memory(url, pid, connections)
        latency = {
            rate_key(rate): (await floor.echo_latency(url, rate, options.seconds)).summary()
            for rate in sorted({*options.rates, options.reference_rate})
        }
    return {
        "ws_echo": {"memory": memory, "latency_ms": latency},
        "db_commit": await floor.commit_latency(stack.database_url, options.db_commits),
    }


def rate_key(rate: float) -> str:
    """A rate as a JSON key: ``200`` whether it was given as 200 or 200.0."""
    return f"{rate:g}"
