"""What a client announces decides how jobs reach it (API.md, "Features a client
announces"); a client that announces nothing gets the original document to the letter.
Real server, real sockets, a client that speaks the protocol by hand."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from printcloud.server.accounts.permissions import Permission
from printcloud.server.db.models import Event
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.documents import PDF, ZPL_B64
from tests.helpers.jobs import final_state, printer_id, submit
from tests.helpers.live_server import LiveServer, serve, serve_asgi
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent

DISCONNECTED = "the computer disconnected before reporting how this job ended; it may have printed"


def client(live: LiveServer, account: TestAccount, name: str = "Office-PC", **ext: Any) -> WsAgent:
    return WsAgent(live.ws_url, account.keys[Permission.FULL], name, **ext)


async def states(http: httpx.AsyncClient, account: TestAccount, job_id: str) -> list[str]:
    history = (await http.get(f"/api/printjobs/{job_id}/states", auth=account.auth())).json()
    return [s["state"] for s in history]


# the original's order


async def test_queued_jobs_wait_for_the_printers_answer(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner)
    await link.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    await link.close()
    queued = [await submit(http, owner, printer) for _ in range(2)]

    back = client(live, owner)
    assert (await back.connect())["type"] == "auth_ok"
    # What a client written from the document does next: report its printers, then
    # read the answer. It must be printers_ok, not a job that overtook it.
    await back.send({"type": "printers", "printers": [{"name": "HP"}]})
    assert await back.recv() == {"type": "printers_ok", "count": 1}
    assert [(await back.recv())["job"]["id"] for _ in queued] == queued
    await back.close()


async def test_no_job_reaches_a_connection_that_never_reported_its_printers(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner)
    await link.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    await link.close()
    await submit(http, owner, printer)

    silent = client(live, owner)
    await silent.connect()
    await live.runtime.dispatcher.sweep()  # which would send it, were the order ignored
    await silent.send({"type": "job_state", "jobId": "pj_nope", "state": "error"})
    # The next message is the answer to that report: nothing was sent before it.
    assert await silent.recv() == {"type": "error", "message": "Unknown job pj_nope"}
    await silent.close()


# at most once without resume


async def test_without_resume_a_job_whose_connection_dropped_ends_error_and_is_not_sent_again(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner)
    await link.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    job_id = await submit(http, owner, printer)
    assert (await link.recv())["job"]["id"] == job_id
    await link.drop()  # before any outcome

    done = await final_state(http, owner, job_id)
    assert done["state"] == "error"
    assert done["history"][-1] == ("error", DISCONNECTED)

    back = client(live, owner)
    await back.connect(printers=["HP"])
    later = await submit(http, owner, printer)
    assert (await back.recv())["job"]["id"] == later  # the next one, not the lost one again
    await back.close()


async def test_a_job_sent_with_resume_is_not_sent_to_a_later_client_without_it(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    journaled = client(live, owner, features=["resume"])
    await journaled.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    job_id = await submit(http, owner, printer)
    assert (await journaled.recv())["job"]["id"] == job_id
    await journaled.drop()
    assert (await final_state_or_none(http, owner, job_id)) is None  # kept for a resume

    plain = client(live, owner)  # comes back without a journal to answer it
    await plain.connect(printers=["HP"])
    done = await final_state(http, owner, job_id)
    assert done["history"][-1] == ("error", DISCONNECTED)
    later = await submit(http, owner, printer)
    assert (await plain.recv())["job"]["id"] == later
    await plain.close()


async def final_state_or_none(
    http: httpx.AsyncClient, account: TestAccount, job_id: str
) -> str | None:
    [found] = (await http.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    return None if found["state"] in ("sent", "printing") else str(found["state"])


# documents the server downloads for a client that does not fetch


@pytest.fixture
async def documents() -> AsyncIterator[str]:
    """A document server on 127.0.0.1."""

    async def pdf(_: Request) -> Response:
        return Response(PDF, media_type="application/pdf")

    async def moved(_: Request) -> Response:
        return Response(status_code=302, headers={"location": "/invoice.pdf"})

    async def missing(_: Request) -> Response:
        return Response(b"gone", status_code=404)

    app = Starlette(
        routes=[
            Route("/invoice.pdf", pdf),
            Route("/moved", moved),
            Route("/missing.pdf", missing),
        ]
    )
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield url


@pytest.fixture
async def private_live(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """A server allowed to reach the test's document server on 127.0.0.1."""
    runtime = runtime_factory(allow_private_urls=True, sweep_interval=0.2)
    async with serve(runtime) as server:
        yield server


async def test_a_uri_job_reaches_a_client_without_fetch_as_base64(
    private_live: LiveServer, documents: str
) -> None:
    async with httpx.AsyncClient(base_url=private_live.url) as http:
        owner = await make_account(private_live.runtime)
        link = client(private_live, owner)
        await link.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")
        job_id = await submit(
            http, owner, printer, contentType="pdf_uri", content=f"{documents}/moved"
        )
        message = await link.recv()
        assert message["job"]["id"] == job_id
        assert message["job"]["contentType"] == "pdf_base64"
        assert base64.b64decode(message["job"]["content"]) == PDF
        # The API still shows the job as it was submitted.
        [shown] = (await http.get(f"/api/printjobs/{job_id}", auth=owner.auth())).json()
        assert shown["contentType"] == "pdf_uri"
        await link.close()


async def test_a_client_that_fetches_gets_the_uri(private_live: LiveServer, documents: str) -> None:
    async with httpx.AsyncClient(base_url=private_live.url) as http:
        owner = await make_account(private_live.runtime)
        link = client(private_live, owner, features=["fetch"])
        await link.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")
        url = f"{documents}/invoice.pdf"
        await submit(http, owner, printer, contentType="pdf_uri", content=url)
        message = await link.recv()
        assert (message["job"]["contentType"], message["job"]["content"]) == ("pdf_uri", url)
        await link.close()


async def test_a_download_that_fails_ends_the_job_error_with_the_reason(
    private_live: LiveServer, documents: str
) -> None:
    async with httpx.AsyncClient(base_url=private_live.url) as http:
        owner = await make_account(private_live.runtime)
        link = client(private_live, owner)
        await link.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")
        failing = await submit(
            http, owner, printer, contentType="pdf_uri", content=f"{documents}/missing.pdf"
        )
        done = await final_state(http, owner, failing)
        assert done["state"] == "error"
        assert "could not download the document" in done["history"][-1][1]
        assert "HTTP 404" in done["history"][-1][1]
        after = await submit(http, owner, printer, contentType="raw_base64", content=ZPL_B64)
        assert (await link.recv())["job"]["id"] == after  # the failed one was never sent
        await link.close()


# cancel


async def test_deleting_a_sent_job_tells_a_client_that_announced_cancel(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner, features=["cancel"])
    await link.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    job_id = await submit(http, owner, printer)
    await link.recv()
    deleted = await http.delete(f"/api/printjobs/{job_id}", auth=owner.auth())
    assert deleted.json() == [job_id]
    assert await link.recv() == {"type": "cancel_job", "jobId": job_id}
    await link.close()


async def test_a_client_without_cancel_hears_nothing_of_a_deleted_job(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner)
    await link.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    job_id = await submit(http, owner, printer)
    await link.recv()
    await http.delete(f"/api/printjobs/{job_id}", auth=owner.auth())
    after = await submit(http, owner, printer)
    assert (await link.recv())["job"]["id"] == after  # the next message: no cancel_job
    await link.close()


# revocation


async def test_revoking_a_key_closes_its_connections_at_once_and_no_other(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    created = (
        await http.post(
            "/api/account/apikeys",
            auth=owner.auth(),
            json={"description": "office", "permission": "full"},
        )
    ).json()
    doomed = WsAgent(live.ws_url, created["key"], "Doomed-PC")
    await doomed.connect(printers=["HP"])
    other = client(live, owner, "Other-PC")
    await other.connect(printers=["Zebra"])

    await http.delete(f"/api/account/apikeys/{created['id']}", auth=owner.auth())
    async with asyncio.timeout(1):
        assert await doomed.closed() == (4002, "the API key was revoked")
    printer = await printer_id(http, owner, "Zebra")
    job_id = await submit(http, owner, printer)
    assert (await other.recv())["job"]["id"] == job_id  # still connected
    await other.close()


# one machine, one computer


async def test_two_machines_with_one_name_are_two_computers(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    first = client(live, owner, "Front-Desk", machine_id="machine-a")
    second = client(live, owner, "Front-Desk", machine_id="machine-b")
    await first.connect(printers=["HP"])
    await second.connect(printers=["Zebra"])
    assert first.computer_id != second.computer_id
    computers = (await http.get("/api/computers", auth=owner.auth())).json()
    assert sorted((c["name"], c["state"]) for c in computers) == [
        ("Front-Desk", "online"),
        ("Front-Desk", "online"),
    ]
    # Neither replaced the other: both still take jobs for their own printers.
    for link, name in ((first, "HP"), (second, "Zebra")):
        printers = (await http.get("/api/printers", auth=owner.auth())).json()
        printer = next(p["id"] for p in printers if p["name"] == name)
        job_id = await submit(http, owner, printer)
        assert (await link.recv())["job"]["id"] == job_id
    again = client(live, owner, "Front-Desk", machine_id="machine-a")
    await again.connect()
    assert again.computer_id == first.computer_id  # the same machine is the same computer
    await again.close()
    await second.close()


async def test_a_machine_id_takes_over_the_computer_its_name_had_without_one(
    live: LiveServer, owner: TestAccount
) -> None:
    before = client(live, owner, "Old-PC")
    await before.connect()
    await before.close()
    upgraded = client(live, owner, "Old-PC", machine_id="machine-old")
    await upgraded.connect()
    assert upgraded.computer_id == before.computer_id
    await upgraded.close()
    # Another machine of that name now is another computer.
    newcomer = client(live, owner, "Old-PC", machine_id="machine-new")
    await newcomer.connect()
    assert newcomer.computer_id != before.computer_id
    await newcomer.close()


# printers follow their computer


async def test_printers_go_offline_with_their_computer_and_back_with_its_report(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = client(live, owner)
    await link.connect(printers=["HP", "Zebra"])
    await link.close()

    async def printers_offline() -> bool:
        printers = (await http.get("/api/printers", auth=owner.auth())).json()
        return {p["state"] for p in printers} == {"offline"}

    await eventually(printers_offline)
    offline_events = await _printer_state_events(live, owner, "offline")
    assert sorted(offline_events) == sorted(
        p["id"] for p in (await http.get("/api/printers", auth=owner.auth())).json()
    )  # one printer.state each

    online_before = len(await _printer_state_events(live, owner, "online"))
    back = client(live, owner)
    await back.connect(printers=["HP", "Zebra"])
    printers = (await http.get("/api/printers", auth=owner.auth())).json()
    assert {p["state"] for p in printers} == {"online"}
    assert len(await _printer_state_events(live, owner, "online")) == online_before + 2
    await back.close()


async def _printer_state_events(live: LiveServer, account: TestAccount, state: str) -> list[str]:
    async with live.runtime.sessionmaker() as session:
        payloads = (
            await session.scalars(
                select(Event.payload)
                .where(Event.account_id == account.account_id, Event.type == "printer.state")
                .order_by(Event.seq)
            )
        ).all()
    return [p["printerId"] for p in payloads if p["state"] == state]
