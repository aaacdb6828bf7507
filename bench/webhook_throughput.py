"""Webhook delivery throughput: deliveries per second to one receiver on loopback.

    .venv/bin/python -m bench.webhook_throughput [--events 4000] [--webhooks 1]
        [--postgres] [--receiver process|inline] [--log-level warning]
        [--profile OUT]

Writes ``--events`` events into a fresh database (SQLite in a temporary directory
unless --database-url names another; on PostgreSQL the tables are emptied first),
for ``--webhooks`` webhooks of as many accounts, all pointing at the same receiver
(one host and port, a path per webhook) and taking events in turn, so that each
event is one delivery. Then it starts the server's ``DeliveryWorker`` (what every
``printcloud serve`` runs: ``deliver_due`` again and again, its connection pool) and
times it until every delivery is recorded as succeeded in the database. It prints
deliveries/s, the load average before the run, and what the receiver counted.

The headline figure is ``--receiver process`` (the default): the receiver is
``bench/webhook_receiver.py`` in a process of its own, a raw asyncio HTTP/1.1 server
that verifies every delivery's Standard Webhooks signature and counts duplicates and
events out of order per webhook, so the figure is the delivery side's cost and the
deliveries are proven real. ``--receiver inline`` is the old measurement: a
Starlette app under uvicorn in the same process and event loop as the delivery loop,
so its CPU counts against the figure (and nothing is verified).

One webhook measures a single receiver endpoint, whose deliveries are sent one at a
time in event order; several webhooks on the same receiver are sent concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.helpers import services
from tests.helpers.live_server import serve_asgi

from printcloud.protocol.events import ALL_EVENTS, EventType
from printcloud.protocol.job_states import JobState
from printcloud.server.db.database import Database
from printcloud.server.db.models import Account, DeliveryStatus, Webhook, WebhookDelivery
from printcloud.server.db.types import utcnow
from printcloud.server.events import repository as events
from printcloud.server.logs import configure_logging
from printcloud.server.settings import Settings
from printcloud.server.webhooks.delivery import DeliveryWorker

SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="  # a throwaway benchmark key


@contextlib.asynccontextmanager
async def receiver_process() -> AsyncIterator[str]:
    """``bench.webhook_receiver`` in a process of its own: its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.webhook_receiver",
        "--secret",
        SECRET,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        await process.wait()


class ReceiverStats:
    """``GET /stats`` of the receiver process, on one kept connection (polled while the
    delivery loop runs: a connection per poll would cost the loop more)."""

    def __init__(self, url: str) -> None:
        self._host, port = url.removeprefix("http://").split(":")
        self._port = int(port)
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self) -> dict[str, int]:
        if self._stream is None:
            self._stream = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._stream
        writer.write(b"GET /stats HTTP/1.1\r\nhost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        stats: dict[str, int] = json.loads(await reader.readexactly(length))
        return stats

    def close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()


@contextlib.asynccontextmanager
async def receiver_inline(counted: list[int]) -> AsyncIterator[str]:
    async def hook(request: Request) -> Response:
        await request.body()
        counted[0] += 1
        return Response("ok")

    app = Starlette(routes=[Route("/hook/{n}", hook, methods=["POST"])])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield url


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A PostgreSQL database of its own on the tests' server (tests/helpers/services.py),
    dropped at the end: the bench never writes into a database it did not make."""
    name = f"printcloud_bench_{secrets.token_hex(6)}"
    admin_dsn = services.postgres_url(services.POSTGRES_ADMIN_DB).replace(
        "postgresql+asyncpg://", "postgresql://", 1
    )
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield services.postgres_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def prepare(database: Database, url: str, count: int, webhooks: int) -> None:
    async with database.sessionmaker() as session:
        accounts = []
        for n in range(webhooks):
            account = Account(id="acc_" + secrets.token_hex(8), created_at=utcnow())
            session.add(account)
            await session.flush()
            session.add(
                Webhook(
                    id="wh_" + secrets.token_hex(8),
                    account_id=account.id,
                    url=f"{url}/hook/{n}",
                    secret=SECRET,
                    events=[ALL_EVENTS],
                    active=True,
                    created_at=utcnow(),
                )
            )
            accounts.append(account.id)
        await session.flush()
        for index in range(count):
            await events.record(
                session,
                accounts[index % webhooks],
                EventType.JOB_CREATED,
                jobId=f"pj_{index}",
                state=JobState.PENDING,
            )
        await session.commit()


async def py_spy(out: str | None) -> asyncio.subprocess.Process | None:
    """py-spy sampling this process (the delivery loop, not the set-up) into ``out``."""
    if out is None:
        return None
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        sys.exit("error: py-spy is not installed (.venv/bin/pip install py-spy)")
    recorder = await asyncio.create_subprocess_exec(
        found,
        "record",
        "--pid",
        str(os.getpid()),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        out,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # attached before the clock starts
    return recorder


async def received(stats: ReceiverStats, counted: list[int] | None) -> int:
    """What the receiver got so far: the inline one counts here, the process answers."""
    return counted[0] if counted is not None else (await stats.get())["received"]


async def pending(database: Database) -> int:
    async with database.sessionmaker() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status != DeliveryStatus.SUCCEEDED)
        )
        return int(left or 0)


async def main(arguments: argparse.Namespace) -> None:
    configure_logging(arguments.log_level)
    counted = [0]
    async with contextlib.AsyncExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        database_url = (
            await stack.enter_async_context(postgres_database()) if arguments.postgres else ""
        )
        settings = Settings(
            data_dir=Path(folder),
            database_url=database_url,
            allow_private_urls=True,
            log_level=arguments.log_level,
        )
        database = Database.open(settings.database_url_resolved)
        await database.migrate()
        receiver = (
            receiver_process() if arguments.receiver == "process" else receiver_inline(counted)
        )
        async with receiver as url:
            await prepare(database, url, arguments.events, arguments.webhooks)
            load = os.getloadavg()
            worker = DeliveryWorker(settings, database.sessionmaker)
            probe = ReceiverStats(url)
            recorder = await py_spy(arguments.profile)
            started = time.perf_counter()
            cpu = time.process_time()
            worker.start()
            async with asyncio.timeout(arguments.events / 50 + 30):  # a stuck run fails
                # The receiver's count first (cheap), then the database's (a scan).
                inline = counted if arguments.receiver == "inline" else None
                while await received(probe, inline) < arguments.events:
                    await asyncio.sleep(0.02)
                while await pending(database):
                    await asyncio.sleep(0.005)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            if recorder is not None:
                recorder.send_signal(signal.SIGINT)  # py-spy writes its file and exits
                await recorder.wait()
            await worker.stop()
            stats = await probe.get() if arguments.receiver == "process" else None
            probe.close()
        await database.close()
    count = arguments.events
    backend = settings.database_url_resolved.split(":", 1)[0]
    print(
        f"{count} deliveries to {arguments.webhooks} webhook(s) in {elapsed:.2f} s: "
        f"{count / elapsed:.0f} deliveries/s; {cpu / count * 1e6:.0f} CPU-us each in the "
        f"delivering process, {count / cpu:.0f} a CPU-second ({backend}, receiver "
        f"{arguments.receiver}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    if stats is not None:
        print(f"receiver: {json.dumps(stats)}")
        if stats["verified"] < count or stats["bad_signature"]:
            sys.exit("the receiver did not verify every delivery")
    elif counted[0] < count:
        sys.exit("the receiver did not get every delivery")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--webhooks", type=int, default=1)
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL (a database of its own) for SQLite"
    )
    parser.add_argument("--receiver", choices=("process", "inline"), default="process")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument(
        "--profile",
        metavar="OUT",
        help="py-spy's collapsed stacks of the delivery loop (the figures then carry the "
        "sampling's cost); summarise with python -m bench.profile_summary OUT",
    )
    arguments = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(main(arguments))
    else:
        # `printcloud serve` runs on uvloop (uvicorn's loop="auto"): the same here.
        uvloop.run(main(arguments))
