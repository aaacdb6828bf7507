"""What the stack under the server costs for one operation, measured in the same run.

- One commit: a single-row INSERT and its commit, one after another, through the
  driver alone (``sqlite3`` with the server's pragmas; asyncpg on PostgreSQL), CPU of
  the committing thread.
- One WebSocket echo: ``bench.load.echo_server`` (the server's uvicorn configuration,
  websockets) in a process of its own; its CPU per message echoed.
- One HTTP request: the same process's bare ASGI answer (uvicorn + httptools), and a
  FastAPI route answering a constant (``--fastapi``); each server's CPU per request, and
  the client's (asyncio streams, keep-alive: what sending one costs).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from bench.load.floor import echo_server
from bench.load.lean_http import LeanHttp
from bench.stage_cost.cpu import measured
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect


@dataclass(frozen=True)
class Floor:
    name: str
    operations: int
    cpu_ns: int
    # Whose CPU: "server" (the floor's server process) or "client" (this process).
    side: str

    @property
    def us_per_op(self) -> float:
        return self.cpu_ns / 1000 / max(self.operations, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "floor": self.name,
            "operations": self.operations,
            "cpu_us_per_op": round(self.us_per_op, 1),
            "side": self.side,
        }


def sqlite_commit(folder: Path, commits: int) -> Floor:
    """Beside the server's database (same disk), with the pragmas its engine sets."""
    path = folder / "floor-commit.db"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("CREATE TABLE floor (id INTEGER PRIMARY KEY, value VARCHAR(40))")
        started = time.thread_time_ns()
        for index in range(commits):
            db.execute("BEGIN")
            db.execute("INSERT INTO floor (id, value) VALUES (?, ?)", (index, f"row {index}"))
            db.execute("COMMIT")
        spent = time.thread_time_ns() - started
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Floor(
        "one SQLite commit (single-row INSERT, WAL, synchronous=NORMAL)", commits, spent, "client"
    )


async def postgres_commit(database_url: str, commits: int) -> Floor:
    """A scratch table in the server's database, dropped afterwards; the client's CPU
    (the server's CPU is PostgreSQL's own process, as for the stages)."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    db = await asyncpg.connect(dsn)
    try:
        await db.execute("CREATE TABLE bench_stage_floor (id INTEGER PRIMARY KEY, value TEXT)")
        started = time.thread_time_ns()
        for index in range(commits):
            # Outside a transaction block each statement is its own commit.
            await db.execute(
                "INSERT INTO bench_stage_floor (id, value) VALUES ($1, $2)", index, f"row {index}"
            )
        spent = time.thread_time_ns() - started
        await db.execute("DROP TABLE bench_stage_floor")
    finally:
        await db.close()
    return Floor("one PostgreSQL commit (single-row INSERT, asyncpg)", commits, spent, "client")


async def websocket_echo(url: str, pid: int, messages: int, sockets: int) -> Floor:
    connections = [await connect(url, ping_interval=None) for _ in range(sockets)]

    async def echo(ws_index: int, count: int) -> None:
        ws = connections[ws_index]
        for _ in range(count):
            await ws.send('{"type":"echo"}')
            await ws.recv()

    try:
        await asyncio.gather(*(echo(i, 50) for i in range(sockets)))  # warm
        async with measured(pid) as spent:
            await asyncio.gather(*(echo(i, count) for i, count in _shares(messages, sockets)))
    finally:
        for ws in connections:
            await ws.close()
    return Floor("one WebSocket echo (uvicorn + websockets)", messages, spent.cpu_ns, "server")


async def http_requests(
    url: str, pid: int, *, requests: int, clients: int, body: bytes, name: str
) -> tuple[Floor, Floor]:
    """The server's CPU per request, and this process's (the client's)."""
    lean = LeanHttp(clients)

    async def post(count: int) -> None:
        for _ in range(count):
            status, _answer = await lean.post_json(url, body, "Basic Zmxvb3I6")
            if status != 200:
                raise RuntimeError(f"the floor server answered {status}")

    try:
        await asyncio.gather(*(post(count) for _i, count in _shares(200, clients)))  # warm
        client_before = time.process_time_ns()
        async with measured(pid) as spent:
            await asyncio.gather(*(post(count) for _i, count in _shares(requests, clients)))
            client = time.process_time_ns() - client_before
    finally:
        await lean.aclose()
    return (
        Floor(f"one HTTP request, {name}", requests, spent.cpu_ns, "server"),
        Floor("one HTTP request, client side (asyncio streams)", requests, client, "client"),
    )


async def measure_all(
    folder: Path, database_url: str, operations: int, clients: int, body: bytes
) -> dict[str, Floor]:
    """Every floor; keys: commit, ws_echo, http_bare, http_fastapi, http_client."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])
        ),
    }
    floors: dict[str, Floor] = {}
    if database_url.startswith("postgresql"):
        floors["commit"] = await postgres_commit(database_url, operations)
    else:
        floors["commit"] = sqlite_commit(folder, operations)
    async with echo_server(env, folder / "floor-echo.log") as (ws_url, pid):
        floors["ws_echo"] = await websocket_echo(ws_url, pid, operations, clients)
        http_url = ws_url.replace("ws://", "http://", 1)
        bare, client = await http_requests(
            http_url,
            pid,
            requests=operations,
            clients=clients,
            body=body,
            name="bare ASGI (uvicorn + httptools)",
        )
        floors["http_bare"], floors["http_client"] = bare, client
    async with echo_server(env, folder / "floor-fastapi.log", "--fastapi") as (ws_url, pid):
        http_url = ws_url.replace("ws://", "http://", 1)
        floors["http_fastapi"], _ = await http_requests(
            http_url,
            pid,
            requests=operations,
            clients=clients,
            body=body,
            name="FastAPI route answering a constant",
        )
    return floors


def _shares(total: int, parts: int) -> list[tuple[int, int]]:
    return [(i, total // parts + (i < total % parts)) for i in range(parts)]
