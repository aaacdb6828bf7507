"""Another account's objects are as unreachable through the dashboard as through the API."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
from sqlalchemy import select

from printcloud.server.accounts.permissions import Permission
from printcloud.server.db.models import Printer
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.dashboard import logged_in, page_token, web_login
from tests.helpers.live_server import LiveServer


async def _objects_of(client: httpx.AsyncClient, account: TestAccount, runtime: Runtime) -> dict:
    computer = await account.add_computer(runtime, name="Secret-PC")
    async with runtime.sessionmaker() as session:
        printer_id = await session.scalar(
            select(Printer.id).where(Printer.computer_id == computer.id)
        )
    job = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        json={
            "printerId": printer_id,
            "contentType": "pdf_base64",
            "content": base64.b64encode(b"%PDF-1.4 secret").decode(),
            "title": "Secret invoice",
        },
    )
    webhook = await client.post(
        "/api/webhooks",
        auth=account.auth(),
        json={"url": "https://example.com/hook", "events": ["all"]},
    )
    keys = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    return {
        "computer": computer.id,
        "printer": printer_id,
        "job": job.json(),
        "webhook": webhook.json()["id"],
        "key": next(k["id"] for k in keys if k["permission"] == "read_only"),
    }


async def test_another_accounts_objects_are_not_found(
    client: httpx.AsyncClient,
    account: TestAccount,
    other_account: TestAccount,
    runtime: Runtime,
) -> None:
    theirs = await _objects_of(client, account, runtime)
    await web_login(client, other_account.user.email)
    token = await page_token(client, "/")
    for path in (
        f"/jobs/{theirs['job']}",
        f"/jobs/{theirs['job']}/thumbnail.png",
        f"/webhooks/{theirs['webhook']}",
        f"/jobs?before={theirs['job']}",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Secret" not in response.text
    for path in (
        f"/printers/{theirs['printer']}/test-page",
        f"/keys/{theirs['key']}/revoke",
        f"/webhooks/{theirs['webhook']}/enable",
        f"/webhooks/{theirs['webhook']}/delete",
        f"/webhooks/{theirs['webhook']}/deliveries/msg_x/replay",
        f"/webhooks/{theirs['webhook']}/test",
    ):
        response = await client.post(path, data={"csrf_token": token})
        assert response.status_code == 404, path
    for path in ("/", "/jobs", "/webhooks", "/keys", f"/jobs?printer={theirs['printer']}"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "Secret" not in page.text
        assert "example.com/hook" not in page.text
    # Nothing of theirs moved: the key works, the webhook is there, no job was added.
    assert (await client.get("/api/printers", auth=account.auth(Permission.READ_ONLY))).is_success
    assert (await client.get(f"/api/webhooks/{theirs['webhook']}", auth=account.auth())).is_success
    deliveries = f"/api/webhooks/{theirs['webhook']}/deliveries"
    assert (await client.get(deliveries, auth=account.auth())).json() == []
    assert len((await client.get("/api/printjobs", auth=account.auth())).json()) == 1


async def _read_events(stream: httpx.Response, until_job: str) -> list[dict]:
    seen: list[dict] = []
    async for line in stream.aiter_lines():
        if line.startswith("data: "):
            seen.append(json.loads(line.removeprefix("data: ")))
            if seen[-1].get("jobId") == until_job:
                return seen
    return seen


async def test_the_live_stream_carries_only_the_accounts_own_events(dash: LiveServer) -> None:
    mine = await make_account(dash.runtime)
    theirs = await make_account(dash.runtime)
    async with httpx.AsyncClient(base_url=dash.url, timeout=30) as api:
        their_objects = await _objects_of(api, theirs, dash.runtime)
        my_computer = await mine.add_computer(dash.runtime)
        async with dash.runtime.sessionmaker() as session:
            my_printer = await session.scalar(
                select(Printer.id).where(Printer.computer_id == my_computer.id)
            )
        browser = await logged_in(dash.url, mine)
        try:
            async with browser.stream("GET", "/dashboard/events?after=0") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                # Their new job first, then mine: when mine arrives, theirs was written.
                their_job = await api.post(
                    "/api/printjobs",
                    auth=theirs.auth(),
                    json={
                        "printerId": their_objects["printer"],
                        "contentType": "raw_base64",
                        "content": base64.b64encode(b"secret").decode(),
                    },
                )
                assert their_job.status_code == 201
                token = await page_token(browser, "/")
                created = await browser.post(
                    f"/printers/{my_printer}/test-page", data={"csrf_token": token}
                )
                my_job = created.headers["location"].rsplit("/", 1)[1]
                events = await asyncio.wait_for(_read_events(stream, my_job), 30)
        finally:
            await browser.aclose()
    assert events[-1] == {
        "type": "job.created",
        "jobId": my_job,
        "state": "pending",
        "printerId": my_printer,
        "timestamp": events[-1]["timestamp"],
    }
    assert all(e.get("jobId") not in {their_objects["job"], their_job.json()} for e in events)
    assert all(e.get("computerId") != their_objects["computer"] for e in events)
