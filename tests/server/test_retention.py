"""History pruning: what is past its retention goes, what is still needed stays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from printcloud.server import retention
from printcloud.server.db.models import (
    Event,
    IdempotencyKey,
    JobStateEvent,
    PrintJob,
    PrintJobContent,
    WebhookDelivery,
)
from printcloud.server.db.types import utcnow
from printcloud.server.retention import prune
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.jobs import job
from tests.helpers.live_server import serve
from tests.helpers.waiting import eventually


async def count(runtime: Runtime, column: InstrumentedAttribute[int]) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count(column))) or 0)


async def test_old_finished_jobs_and_delivered_events_are_pruned(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    webhook = await client.post(
        "/api/webhooks",
        auth=account.auth(),
        json={"url": "https://hooks.example.com/printcloud", "events": ["job.created"]},
    )
    assert webhook.status_code == 201, webhook.text
    ids = []
    for title, key in (("old done", "key-old"), ("recent done", None), ("old pending", None)):
        headers = {"Idempotency-Key": key} if key else {}
        response = await client.post(
            "/api/printjobs",
            auth=account.auth(),
            json=job(printer_id, title=title),
            headers=headers,
        )
        assert response.status_code == 201
        ids.append(response.json())
    old_done, recent_done, old_pending = ids
    long_ago = utcnow() - timedelta(days=400)
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(PrintJob)
            .where(PrintJob.id.in_([old_done, recent_done]))
            .values(state="completed")
        )
        await session.execute(
            update(PrintJob)
            .where(PrintJob.id.in_([old_done, old_pending]))
            .values(updated_at=long_ago)
        )
        await session.execute(update(Event).values(created_at=long_ago))
        await session.execute(update(IdempotencyKey).values(created_at=long_ago))
        # The first job's announcement was delivered; the others' are still on their way.
        first_event = await session.scalar(select(func.min(Event.seq)))
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.event_seq == first_event)
            .values(status="succeeded")
        )
        await session.commit()
    assert await count(runtime, Event.seq) == 3

    pruned = await prune(runtime.sessionmaker, runtime.settings)

    assert (pruned.jobs, pruned.events, pruned.idempotency_keys) == (1, 1, 1)
    history = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert sorted(j["id"] for j in history) == sorted([recent_done, old_pending])
    gone = await client.get(f"/api/printjobs/{old_done}/states", auth=account.auth())
    assert gone.status_code == 404
    # The job's document and history went with it; the others' are whole.
    assert await count(runtime, PrintJobContent.job_seq) == 2
    assert await count(runtime, JobStateEvent.seq) == 2
    # Events still being delivered stay, with their deliveries.
    assert await count(runtime, Event.seq) == 2
    assert await count(runtime, WebhookDelivery.seq) == 2
    # A second pass finds nothing more to do.
    assert await prune(runtime.sessionmaker, runtime.settings) == type(pruned)()


async def test_pruning_goes_in_batches_until_everything_old_is_gone(
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    printer_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(7):
        response = await client.post(
            "/api/printjobs", auth=account.auth(), json=job(printer_id, title=str(i))
        )
        assert response.status_code == 201
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(PrintJob).values(state="error", updated_at=utcnow() - timedelta(days=31))
        )
        await session.commit()

    monkeypatch.setattr(retention, "BATCH", 3)
    pruned = await prune(runtime.sessionmaker, runtime.settings)

    assert pruned.jobs == 7
    assert (await client.get("/api/printjobs", auth=account.auth())).json() == []


async def test_a_running_server_prunes_on_its_own(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(prune_interval=0.1)
    account = await make_account(runtime)
    await account.add_computer(runtime, "Office-PC", ("HP",), state="offline")
    async with serve(runtime) as server, httpx.AsyncClient(base_url=server.url) as http:
        printer = (await http.get("/api/printers", auth=account.auth())).json()[0]["id"]
        response = await http.post("/api/printjobs", auth=account.auth(), json=job(printer))
        assert response.status_code == 201
        async with runtime.sessionmaker() as session:
            await session.execute(
                update(PrintJob).values(state="completed", updated_at=utcnow() - timedelta(days=90))
            )
            await session.commit()

        # What the tests above prove of prune(), the server's own timer now does: a
        # background loop, so the test waits for its work to show, with a deadline.
        async def pruned() -> bool:
            return await count(runtime, PrintJob.seq) == 0

        await eventually(pruned)

        assert (await http.get("/api/printjobs", auth=account.auth())).json() == []
