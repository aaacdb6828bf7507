"""What an account holds, as its own API shows it: to prove that another account's
requests, however hostile, changed none of it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.accounts import TestAccount


async def holdings(http: httpx.AsyncClient, account: TestAccount) -> dict[str, Any]:
    """The account's computers, printers, jobs (with their histories), webhooks and keys."""

    async def get(path: str) -> Any:
        response = await http.get(path, auth=account.auth())
        assert response.status_code == 200, response.text
        return response.json()

    jobs = await get("/api/printjobs?limit=1000")
    return {
        "computers": await get("/api/computers"),
        "printers": await get("/api/printers"),
        "jobs": jobs,
        "histories": {job["id"]: await get(f"/api/printjobs/{job['id']}/states") for job in jobs},
        "webhooks": await get("/api/webhooks"),
        "keys": await get("/api/account/apikeys"),
    }


async def furnish(http: httpx.AsyncClient, account: TestAccount, printer_id: str) -> None:
    """One object of each kind the API makes: a job, a webhook, a read-only key."""
    for path, body in [
        (
            "/api/printjobs",
            {"printerId": printer_id, "contentType": "raw_base64", "content": "XlhB"},
        ),
        ("/api/webhooks", {"url": "https://example.com/hook", "events": ["all"]}),
        ("/api/account/apikeys", {"description": "reports", "permission": "read_only"}),
    ]:
        response = await http.post(path, auth=account.auth(), json=body)
        assert response.status_code == 201, response.text
