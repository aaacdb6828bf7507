from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import httpx
import pytest

from printcloud.server.jobs import content, service
from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job


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


async def test_a_large_document_being_checked_does_not_hold_up_other_requests(
    client: httpx.AsyncClient,
    account: TestAccount,
    printer_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check of a large document runs in a thread; this one says when it has begun,
    # and waits to be let go.
    checking = threading.Event()
    let_go = threading.Event()
    real_check = content.check_content  # which the service calls

    def slow_check(*args: Any, **kwargs: Any) -> str:
        checking.set()
        assert let_go.wait(timeout=30)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(service, "check_content", slow_check)
    big = base64.b64encode(b"%PDF-1.4\n" + b"x" * 400_000).decode()
    posting = asyncio.create_task(
        client.post(
            "/api/printjobs",
            auth=account.auth(),
            json=job(printer_id, contentType="pdf_base64", content=big),
        )
    )
    assert await asyncio.to_thread(checking.wait, 10)  # the POST is in its check

    # Meanwhile the database serves others (SQLite has one connection to lend).
    others = await asyncio.wait_for(client.get("/api/printers", auth=account.auth()), 10)
    assert others.status_code == 200
    assert not posting.done()
    let_go.set()
    assert (await posting).status_code == 201
