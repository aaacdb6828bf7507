from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers.accounts import TestAccount
from tests.helpers.database import empty_tables
from tests.helpers.jobs import job


@pytest.fixture
async def object_ids(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> dict[str, str]:
    """One object of each kind in ``account``, by kind: printer, computer, job, webhook,
    delivery, key."""
    computer = await account.add_computer(runtime)
    printer_id = (await client.get("/api/printers", auth=account.auth())).json()[0]["id"]
    job_id = (await client.post("/api/printjobs", auth=account.auth(), json=job(printer_id))).json()
    webhook = await client.post(
        "/api/webhooks",
        auth=account.auth(),
        json={"url": "https://example.com/hook", "events": ["all"]},
    )
    key = await client.post(
        "/api/account/apikeys", auth=account.auth(), json={"permission": "read_only"}
    )
    # A job created after the webhook: its job.created event makes a delivery.
    await client.post("/api/printjobs", auth=account.auth(), json=job(printer_id))
    deliveries = await client.get(
        f"/api/webhooks/{webhook.json()['id']}/deliveries", auth=account.auth()
    )
    return {
        "delivery": deliveries.json()[0]["id"],
        "printer": printer_id,
        "computer": computer.id,
        "job": job_id,
        "webhook": webhook.json()["id"],
        "key": key.json()["id"],
    }


@pytest.fixture
async def cluster_runtime(postgres_url: str, redis_url: str) -> AsyncIterator[Runtime]:
    """A runtime on the cluster's PostgreSQL and Redis, for the test's own checks beside
    the ``printcloud serve`` processes it starts; its tables are emptied after."""
    runtime = Runtime.create(Settings(database_url=postgres_url, redis_url=redis_url))
    yield runtime
    await empty_tables(runtime.database)
    await runtime.close()
