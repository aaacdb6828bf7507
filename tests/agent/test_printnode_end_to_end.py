"""An application written for PrintNode, moved to PrintCloud by its base URL and key.

PrintNode's own Python client (``printnode-community``, unmodified) talks to a live
server's ``/printnode``; a real agent prints on the print rig (scripts/printrig.sh):
a PDF by URI from a document server on loopback, a PDF by base64, and a ZPL label,
each arriving at the rig's IPP printer or raw socket sink as sent, options included.
The client is synchronous (requests): it runs in a thread while the server runs here.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from printnode_community import Gateway
from printnode_community.model import Printer, PrintJob
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from printcloud.agent.journal import Journal
from printcloud.agent.printers.cups import CupsBackend
from printcloud.agent.runner import Agent
from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.agent import agent_config, running
from tests.helpers.documents import minimal_pdf
from tests.helpers.live_server import LiveServer, serve, serve_asgi
from tests.helpers.printrig import PrintRig, emulator_job, sink_file_with, unique_title
from tests.helpers.waiting import eventually


@pytest.fixture
async def live(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """The live server, letting documents come from loopback (the test's document
    server)."""
    runtime = runtime_factory(sweep_interval=0.2, allow_private_urls=True)
    async with serve(runtime) as server:
        yield server


@pytest.fixture
async def owner(live: LiveServer) -> TestAccount:
    return await make_account(live.runtime)


@pytest.fixture
async def agent(
    live: LiveServer, owner: TestAccount, printrig: PrintRig, tmp_path: Path
) -> AsyncIterator[Agent]:
    settings = agent_config(
        live.url,
        owner,
        tmp_path / "agent",
        cups=True,
        cups_server=printrig.cups_server,
        job_timeout=3,
        allow_private_urls=True,
    )
    cups = CupsBackend(printrig.cups_server, job_timeout=3, poll_interval=0.2)
    running_agent = Agent(settings, [cups], Journal(tmp_path / "journal.sqlite3"))
    async with running(running_agent):
        yield running_agent
    await cups.close()


@pytest.fixture
async def document_url() -> AsyncIterator[tuple[str, bytes]]:
    """A PDF served on loopback, as an application's invoice URL; its URL and bytes."""
    document = minimal_pdf(f"by uri {secrets.token_hex(4)}")

    async def pdf(_: Request) -> Response:
        return Response(document, media_type="application/pdf")

    app = Starlette(routes=[Route("/invoice.pdf", pdf)])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield f"{url}/invoice.pdf", document


@pytest.fixture
def gateway(live: LiveServer, owner: TestAccount) -> Gateway:
    return Gateway(url=f"{live.url}/printnode", apikey=owner.keys[Permission.FULL])


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The client's blocking call, in a thread: the server answers on this event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


async def printer_named(gateway: Gateway, name: str) -> Printer:
    """The printer, once the agent has reported it, found as a PrintNode client does."""

    async def find() -> Printer | None:
        found = await call(gateway.printers, printer=name)
        return found[0] if found else None

    printer: Printer = await eventually(find)
    return printer


async def done(gateway: Gateway, job: PrintJob) -> list[str]:
    """The job's states once it is over, in PrintNode's words, fetched with the client."""

    async def over() -> list[str] | None:
        [states] = await call(gateway.states, job.id)
        words = [s.state for s in states]
        return words if words[-1] in ("done", "error", "expired") else None

    words: list[str] = await eventually(over, timeout=30)
    return words


async def test_a_printnode_application_prints_on_printcloud_by_changing_its_url_and_key(
    agent: Agent,
    gateway: Gateway,
    owner: TestAccount,
    printrig: PrintRig,
    document_url: tuple[str, bytes],
) -> None:
    account = await call(lambda: gateway.account)
    assert (account.firstname, account.lastname, account.email) == (
        "John",
        "Doe",
        owner.user.email,
    )
    [computer] = await call(gateway.computers)
    assert (computer.name, computer.state) == ("Test-PC", "connected")
    assert account.connected == [computer.id]
    pdfq = await printer_named(gateway, "PDFQ")
    zplq = await printer_named(gateway, "ZPLQ")
    assert pdfq.computer.id == computer.id
    assert pdfq.capabilities.color is True
    assert "iso_a4_210x297mm" in pdfq.capabilities.papers

    # A PDF by URI, with options.
    uri, _ = document_url
    by_uri_title = unique_title("pn-uri")
    by_uri = await call(
        gateway.PrintJob,
        printer=pdfq.id,
        job_type="pdf",
        title=by_uri_title,
        uri=uri,
        options={"copies": 2, "duplex": "long-edge", "color": False},
    )
    assert isinstance(by_uri.id, int)
    assert (by_uri.printer.id, by_uri.title, by_uri.content_type, by_uri.source) == (
        pdfq.id,
        by_uri_title,
        "pdf_uri",
        "PythonApiClient",  # what the client sends
    )

    # A PDF by base64, with its paper and pages.
    by_base64_title = unique_title("pn-b64")
    by_base64 = await call(
        gateway.PrintJob,
        printer=pdfq.id,
        job_type="pdf",
        title=by_base64_title,
        base64=base64.b64encode(minimal_pdf("by base64")).decode(),
        options={"paper": "A4", "duplex": "short-edge"},
    )

    # A raw label, sent by the client as binary (it base64s it).
    label = b"^XA^FO50,50^ADN,36,20^FD" + secrets.token_hex(8).encode() + b"^FS^XZ"
    raw = await call(
        gateway.PrintJob,
        printer=zplq.id,
        job_type="raw",
        title=unique_title("pn-zpl"),
        binary=label,
    )
    assert raw.content_type == "raw_base64"

    for job in (by_uri, by_base64, raw):
        assert await done(gateway, job) == ["new", "sent_to_client", "in_progress", "done"]
    [states] = await call(gateway.states, by_uri.id)
    assert [s.client_version for s in states] == [None] + [computer.version] * 3
    assert all(s.print_job_id == by_uri.id for s in states)
    received = await emulator_job(printrig, by_uri_title)
    assert received["copies"] == [2]
    assert received["sides"] == ["two-sided-long-edge"]
    assert received["print-color-mode"] == ["monochrome"]
    received = await emulator_job(printrig, by_base64_title)
    assert received["sides"] == ["two-sided-short-edge"]
    assert await sink_file_with(printrig, label) == label

    listed = await call(gateway.printjobs, printer=pdfq.id)
    assert sorted(j.id for j in listed) == sorted([by_uri.id, by_base64.id])
    assert {j.state for j in listed} == {"done"}

    # The client has no delete call of its own: its own HTTP layer, as an application
    # using it would.
    deleted = await call(gateway._auth.delete, f"/printjobs/{by_uri.id},{raw.id}")
    assert sorted(deleted) == sorted([by_uri.id, raw.id])
    [left] = await call(gateway.printjobs)
    assert left.id == by_base64.id
