"""The servers under test: ``printcloud serve`` processes on a database made for the run.

Embedded: one process on a fresh SQLite file. Cluster: two processes on a fresh
PostgreSQL database (created here, dropped at the end) and a Redis database of the
bench's own; only the rate-limit keys the servers wrote are deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis
from tests.helpers.server_process import ServerProcess

PG_ADMIN_DSN = os.environ.get(
    "PRINTCLOUD_BENCH_PG_DSN", "postgresql://root@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("PRINTCLOUD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RATE_LIMIT_KEYS = "printcloud:rl:*"
# Long enough to measure a slow shutdown (it took over a minute with 10,000 sockets).
SHUTDOWN_TIMEOUT = 180.0


@dataclass
class Stack:
    """The running servers of one shape, and what they were started with."""

    shape: str
    env: dict[str, str]
    database_url: str
    log_dir: Path
    servers: list[ServerProcess] = field(default_factory=list)
    restarts: int = 0

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def ws_urls(self) -> list[str]:
        return [server.ws_url for server in self.servers]

    @property
    def pids(self) -> list[int]:
        return [server.process.pid for server in self.servers]

    def start(self, count: int) -> None:
        self.servers += [self._launch(index) for index in range(count)]
        for server in self.servers:
            server.wait_ready(timeout=120)

    def _launch(self, index: int) -> ServerProcess:
        return ServerProcess(self.env, self.log_dir / f"server-{index}-{self.restarts}.log")

    def stop(self) -> list[float]:
        """SIGTERM every server at once (a deploy, not a crash); the seconds each took to exit."""
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.wait_stopped(SHUTDOWN_TIMEOUT)
        seconds = [server.shutdown_seconds or 0.0 for server in self.servers]
        self.servers = []
        return seconds

    def restart(self) -> list[float]:
        """Stop every server and start as many again; the seconds each took to exit.

        The new processes listen on new ports; the agents follow ``ws_urls``.
        """
        count = len(self.servers)
        seconds = self.stop()
        self.restarts += 1
        self.start(count)
        return seconds

    def replace(self, index: int) -> float:
        """Restart one server (a rolling deploy's step) on a new port; the seconds it took
        to exit."""
        old = self.servers[index]
        old.stop(SHUTDOWN_TIMEOUT)
        self.restarts += 1
        self.servers[index] = self._launch(index)
        self.servers[index].wait_ready(timeout=120)
        return old.shutdown_seconds or 0.0


def bench_settings(agents: int, accounts: int) -> dict[str, str]:
    """The settings the bench changes from the defaults, with the reason for each."""
    per_account = -(-agents // accounts)
    return {
        # Webhooks go to the receiver on loopback.
        "PRINTCLOUD_ALLOW_PRIVATE_URLS": "1",
        # Info logs one line per job state; the bench measures the server, not its logging.
        "PRINTCLOUD_LOG_LEVEL": "warning",
        # Agents are spread over the accounts; allow each account its share and some.
        "PRINTCLOUD_MAX_CONNECTIONS_PER_ACCOUNT": str(max(1000, 2 * per_account)),
    }


def inherited_settings() -> dict[str, str]:
    """The servers' settings that come from the harness's own environment, which they
    inherit (the harness's and the tests' variables are not settings)."""
    own = ("PRINTCLOUD_BENCH_", "PRINTCLOUD_TEST_")
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith("PRINTCLOUD_") and not name.startswith(own)
    }


@contextlib.asynccontextmanager
async def running_stack(
    shape: str, data_dir: Path, settings: dict[str, str]
) -> AsyncIterator[Stack]:
    """Start the shape's servers on a fresh database; stop them and drop it whatever happens."""
    env = {**os.environ, **settings, "PRINTCLOUD_DATA_DIR": str(data_dir / "server")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    if shape == "embedded":
        url = f"sqlite+aiosqlite:///{data_dir / 'server' / 'printcloud.db'}"
        stack = Stack(shape, {**env, "PRINTCLOUD_DATABASE_URL": url}, url, data_dir)
        try:
            stack.start(1)
            yield stack
        finally:
            stack.stop()
        return
    async with fresh_postgres() as url, own_redis() as redis_url:
        env |= {"PRINTCLOUD_DATABASE_URL": url, "PRINTCLOUD_REDIS_URL": redis_url}
        stack = Stack(shape, env, url, data_dir)
        try:
            stack.start(2)
            yield stack
        finally:
            stack.stop()


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A database of the run's own; its SQLAlchemy URL. Dropped at the end."""
    name = f"printcloud_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def own_redis() -> AsyncIterator[str]:
    """The bench's Redis database; the rate-limit keys written in it are deleted afterwards.

    The servers' bus is a pub/sub channel, which Redis shares across databases: wake-ups
    of a test run on the same Redis reach the bench's servers too (and are ignored there).
    """
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
        yield REDIS_URL
    finally:
        async for key in client.scan_iter(RATE_LIMIT_KEYS, count=1000):
            await client.delete(key)
        await client.aclose()
