"""Webhook delivery throughput: deliveries per second to a receiver on loopback.

    .venv/bin/python -m bench.webhook_throughput [--events 2000] [--database-url URL]

Writes N events for one webhook into a fresh database (SQLite in a temporary
directory unless --database-url names another), then runs the delivery loop of
one server process (the same ``deliver_due`` the worker runs) until every event
was delivered to a minimal receiver, and prints deliveries/s. The receiver runs
in the same process and event loop, so the figure includes its cost too.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.helpers.live_server import serve_asgi

from printcloud.protocol.events import ALL_EVENTS, EventType
from printcloud.protocol.job_states import JobState
from printcloud.server.db.database import Database
from printcloud.server.db.models import Account, Webhook
from printcloud.server.db.types import utcnow
from printcloud.server.events import repository as events
from printcloud.server.settings import Settings
from printcloud.server.webhooks.delivery import deliver_due


async def main(count: int, database_url: str | None) -> None:
    received = 0

    async def hook(request: Request) -> Response:
        nonlocal received
        await request.body()
        received += 1
        return Response("ok")

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            database_url=database_url or "",
            allow_private_urls=True,
            log_level="warning",
        )
        database = Database.open(settings.database_url_resolved)
        await database.migrate()
        async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
            async with database.sessionmaker() as session:
                account = Account(id="acc_" + secrets.token_hex(8), created_at=utcnow())
                session.add(account)
                await session.flush()
                session.add(
                    Webhook(
                        id="wh_" + secrets.token_hex(8),
                        account_id=account.id,
                        url=f"{url}/hook",
                        secret="bench-secret",  # noqa: S106 - a throwaway benchmark webhook
                        events=[ALL_EVENTS],
                        active=True,
                        created_at=utcnow(),
                    )
                )
                await session.flush()
                for index in range(count):
                    await events.record(
                        session,
                        account.id,
                        EventType.JOB_CREATED,
                        jobId=f"pj_{index}",
                        state=JobState.PENDING,
                    )
                await session.commit()
            started = time.perf_counter()
            while received < count:
                await deliver_due(database.sessionmaker, settings)
            elapsed = time.perf_counter() - started
        await database.close()
    print(
        f"{count} deliveries in {elapsed:.2f} s: {count / elapsed:.0f} deliveries/s "
        f"({settings.database_url_resolved.split(':', 1)[0]})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.database_url))
