"""Our agent and the real server together: what an office sees on paper matches what
the integrator reads, through deletes, revocation, two machines of one name and
documents on the office network."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from printcloud.agent.journal import CANCELLED, Journal
from printcloud.agent.printers.cups import CupsBackend
from printcloud.agent.printers.folder import FolderBackend
from printcloud.agent.reconnect import AgentFatal
from printcloud.agent.runner import Agent
from printcloud.protocol.ipp import JobState as CupsJobState
from printcloud.protocol.job_states import JobState
from tests.helpers.accounts import TestAccount
from tests.helpers.agent import CountingFolder, agent_config, running
from tests.helpers.documents import PDF
from tests.helpers.jobs import final_state, printer_id, submit
from tests.helpers.live_server import LiveServer, serve_asgi
from tests.helpers.printrig import (
    PrintRig,
    cups_job_state_of,
    cups_job_waiting,
    run_cups_tool,
    sink_file_with,
    sink_files_with,
    unique_title,
)
from tests.helpers.waiting import eventually


async def _cancelled(journal: Journal, job_id: str) -> bool:
    entry = journal.get(job_id)
    return entry is not None and entry.message.startswith(CANCELLED)


async def test_a_job_deleted_while_queued_on_the_agent_is_never_printed(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    backend = CountingFolder(tmp_path / "out")
    backend.release.clear()  # the first job holds the printer
    journal = Journal(tmp_path / "journal.sqlite3")
    agent = Agent(agent_config(live.url, owner, tmp_path / "agent"), [backend], journal)
    async with running(agent):
        printer = await printer_id(http, owner, "Folder")
        first = await submit(http, owner, printer)
        await eventually(lambda: _positive(backend.prints))
        queued = await submit(http, owner, printer)
        await eventually(lambda: _sent(http, owner, queued))
        assert (await http.delete(f"/api/printjobs/{queued}", auth=owner.auth())).json() == [queued]
        await eventually(lambda: _cancelled(journal, queued))
        backend.release.set()
        assert (await final_state(http, owner, first))["state"] == "completed"
    assert backend.prints == 1
    assert not (tmp_path / "out" / f"{queued}.pdf").exists()


async def test_a_job_deleted_while_held_in_cups_is_cancelled_there(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    tmp_path: Path,
    printrig: PrintRig,
    paused_queue: str,
) -> None:
    cups = CupsBackend(printrig.cups_server, job_timeout=60, poll_interval=0.2)
    journal = Journal(tmp_path / "journal.sqlite3")
    config = agent_config(
        live.url, owner, tmp_path / "agent", cups=True, only_printers=[paused_queue]
    )
    title = unique_title("deleted")
    label = f"^XA^FD{title}^FS^XZ".encode()
    try:
        async with running(Agent(config, [cups], journal)):
            printer = await printer_id(http, owner, paused_queue)
            job_id = await submit(
                http,
                owner,
                printer,
                title=title,
                contentType="raw_base64",
                content=base64.b64encode(label).decode(),
            )
            cups_job = await cups_job_waiting(printrig, paused_queue, title)  # held there
            await http.delete(f"/api/printjobs/{job_id}", auth=owner.auth())
            await eventually(lambda: _cancelled(journal, job_id))
            assert await cups_job_state_of(printrig, cups_job) == CupsJobState.CANCELED

            # The queue prints again: the next label comes out, the deleted one never.
            run_cups_tool(printrig, "cupsenable", paused_queue)
            marker = f"^XA^FD{unique_title('after')}^FS^XZ".encode()
            after = await submit(
                http,
                owner,
                printer,
                contentType="raw_base64",
                content=base64.b64encode(marker).decode(),
            )
            assert (await final_state(http, owner, after))["state"] == "completed"
            await sink_file_with(printrig, marker)
    finally:
        await cups.close()
    assert sink_files_with(printrig, label) == []


async def test_revoking_the_agents_key_stops_it_at_once(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    created = (
        await http.post(
            "/api/account/apikeys",
            auth=owner.auth(),
            json={"description": "front desk", "permission": "full"},
        )
    ).json()
    config = agent_config(live.url, owner, tmp_path / "agent").model_copy(
        update={"api_key": created["key"]}
    )
    agent = Agent(config, [], Journal(tmp_path / "journal.sqlite3"))
    task = asyncio.create_task(agent.run())
    async with asyncio.timeout(10):
        await agent.connected.wait()
    await http.delete(f"/api/account/apikeys/{created['id']}", auth=owner.auth())
    with pytest.raises(AgentFatal, match="revoked"):
        async with asyncio.timeout(5):
            await task


async def test_two_agents_with_one_name_and_their_own_machine_ids_are_two_computers(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    agents = []
    for machine, folder in (("machine-a", "A"), ("machine-b", "B")):
        config = agent_config(
            live.url,
            owner,
            tmp_path / machine,
            name="Front-Desk",
            machine_id=machine,
            folder_printers={folder: tmp_path / folder},
        )
        backend = FolderBackend({folder: tmp_path / folder})
        agents.append(Agent(config, [backend], Journal(tmp_path / f"{machine}.sqlite3")))
    async with running(agents[0]), running(agents[1]):
        a, b = await printer_id(http, owner, "A"), await printer_id(http, owner, "B")
        on_a, on_b = await submit(http, owner, a), await submit(http, owner, b)
        assert (await final_state(http, owner, on_a))["state"] == "completed"
        assert (await final_state(http, owner, on_b))["state"] == "completed"
        computers = (await http.get("/api/computers", auth=owner.auth())).json()
        assert sorted((c["name"], c["state"]) for c in computers) == [
            ("Front-Desk", "online"),
            ("Front-Desk", "online"),
        ]
        # Neither was ever replaced by the other: both connections are the first ones.
        assert agents[0].connected.is_set()
        assert agents[1].connected.is_set()
    assert (tmp_path / "A" / f"{on_a}.pdf").exists()
    assert (tmp_path / "B" / f"{on_b}.pdf").exists()


@pytest.fixture
async def office_document() -> AsyncIterator[str]:
    """A document on the office network: a server on this machine, reached by its name
    (which the server's POST check cannot tell from a public one)."""
    host = socket.gethostname()
    infos = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)
    resolved = {ipaddress.ip_address(info[4][0]) for info in infos}
    assert resolved, host
    assert all(address.is_loopback for address in resolved), resolved  # the scenario's premise

    async def pdf(_: Request) -> Response:
        return Response(PDF, media_type="application/pdf")

    app = Starlette(routes=[Route("/invoice.pdf", pdf)])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield url.replace("127.0.0.1", host) + "/invoice.pdf"


@pytest.mark.parametrize("allowed", [False, True])
async def test_the_agent_fetches_a_document_on_a_private_address_only_when_allowed(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    tmp_path: Path,
    office_document: str,
    allowed: bool,
) -> None:
    config = agent_config(
        live.url,
        owner,
        tmp_path / "agent",
        allow_private_urls=allowed,
        folder_printers={"Folder": tmp_path / "out"},
    )
    agent = Agent(config, [FolderBackend({"Folder": tmp_path / "out"})], Journal(tmp_path / "j"))
    async with running(agent):
        printer = await printer_id(http, owner, "Folder")
        job_id = await submit(http, owner, printer, contentType="pdf_uri", content=office_document)
        done = await final_state(http, owner, job_id)
    if allowed:
        assert done["state"] == "completed"
        assert (tmp_path / "out" / f"{job_id}.pdf").read_bytes() == PDF
    else:
        assert done["state"] == "error"
        message = done["history"][-1][1]
        assert "not a public address" in message
        assert "allow_private_urls" in message
        assert not (tmp_path / "out" / f"{job_id}.pdf").exists()


async def _positive(value: int) -> bool:
    return value > 0


async def _sent(http: httpx.AsyncClient, account: TestAccount, job_id: str) -> bool:
    [found] = (await http.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    return bool(found["state"] == JobState.SENT)
