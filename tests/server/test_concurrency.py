from __future__ import annotations

import asyncio

import httpx

from tests.conftest import TestAccount
from tests.server.test_jobs_api import job


async def test_concurrent_submissions_are_all_accepted_and_kept(
    client: httpx.AsyncClient, account: TestAccount, other_account: TestAccount, printer_id: str
) -> None:
    responses = await asyncio.gather(
        *[
            client.post("/api/printjobs", auth=account.auth(), json=job(printer_id, title=str(i)))
            for i in range(40)
        ],
        *[client.get("/api/printjobs", auth=account.auth()) for _ in range(10)],
        *[
            client.post("/api/account/apikeys", auth=other_account.auth(), json={})
            for _ in range(10)
        ],
    )

    assert [r.status_code for r in responses] == [201] * 40 + [200] * 10 + [201] * 10
    history = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert sorted(j["id"] for j in history) == sorted(r.json() for r in responses[:40])
