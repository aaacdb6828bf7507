"""What the machine itself can do, measured the way the server is measured.

- WebSocket echo (``echo_server``): round trip at each offered rate, and RSS per idle
  connection, against the server's POST->agent latency and memory per agent.
- One database commit: a single-row insert and commit through the server's engine
  (same driver, same SQLite pragmas or PostgreSQL pool), against POST->201.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from bench.load.measure import Latency, rss_bytes
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.helpers.live_server import free_port
from websockets.asyncio.client import ClientConnection, connect

from printcloud.server.db.engine import create_engine


@contextlib.asynccontextmanager
async def echo_server(
    env: dict[str, str], log: Path, *options: str
) -> AsyncIterator[tuple[str, int]]:
    """The echo server in a process of its own (``options`` on its command line); its
    ws URL and pid."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for below
            [sys.executable, "-m", "bench.load.echo_server", "--port", str(port), *options],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    try:
                        await client.get(f"http://127.0.0.1:{port}/")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            yield f"ws://127.0.0.1:{port}/", process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


async def echo_memory(url: str, pid: int, connections: int) -> dict[str, Any]:
    """RSS before and after ``connections`` idle echo sockets (each echoed once)."""
    await asyncio.sleep(0.5)
    before = rss_bytes(pid)
    sockets: list[ClientConnection] = []
    try:
        for start in range(0, connections, 200):
            opened = await asyncio.gather(
                *(
                    connect(url, ping_interval=None, open_timeout=60)
                    for _ in range(start, min(start + 200, connections))
                )
            )
            sockets.extend(opened)
        for ws in sockets:
            await ws.send("hello")
        for ws in sockets:
            await ws.recv()
        await asyncio.sleep(1)
        after = rss_bytes(pid)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        "connections": connections,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "per_connection_bytes": round((after - before) / max(connections, 1)),
    }


async def echo_latency(url: str, rate: float, seconds: float, pool: int = 50) -> Latency:
    """Open loop, like the submitters: send at fixed times, time each echo from then."""
    latency = Latency()
    sockets = [await connect(url, ping_interval=None) for _ in range(pool)]

    async def read(ws: ClientConnection) -> None:
        async for message in ws:
            latency.record_ns(time.monotonic_ns() - int(message))

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    count = max(1, round(rate * seconds))
    start = time.monotonic_ns()
    for index in range(count):
        scheduled = start + int(index * 1e9 / rate)
        delay = scheduled - time.monotonic_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        await sockets[index % pool].send(str(scheduled))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            while latency.count < count:
                await asyncio.sleep(0.01)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return latency


async def commit_latency(database_url: str, commits: int) -> dict[str, Any]:
    """Single-row insert + commit, one after another, through the server's engine.

    SQLite: a file of its own beside the server's (same disk, same pragmas).
    PostgreSQL: a scratch table in the bench's database, dropped afterwards.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        url = url.set(database=str(Path(str(url.database)).with_name("floor.db")))
    engine = create_engine(url.render_as_string(hide_password=False))
    latency = Latency()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, value VARCHAR(40))")
            )
        started = time.monotonic()
        for index in range(commits):
            before = time.monotonic_ns()
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO bench_floor (id, value) VALUES (:id, :value)"),
                    {"id": index, "value": f"row {index}"},
                )
            latency.record_ns(time.monotonic_ns() - before)
        seconds = time.monotonic() - started
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_floor"))
    finally:
        await engine.dispose()
    return {"latency_ms": latency.summary(), "commits_per_s": round(commits / seconds)}
