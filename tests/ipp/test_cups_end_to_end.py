"""The done criterion of issue 20, on the print rig: the rig's CUPS adds a PrintCloud
printer driverlessly (``lpadmin -m everywhere``), ``lp`` prints through it, PrintCloud
hands the job to a real agent, and the agent's CUPS queue (PDFQ) delivers it to the
rig's IPP Everywhere printer emulator with the options given to ``lp``."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from printcloud.agent.journal import Journal
from printcloud.agent.printers.cups import CupsBackend
from printcloud.agent.runner import Agent
from printcloud.protocol.ipp import JobState as CupsJobState
from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import TestAccount
from tests.helpers.agent import agent_config, running
from tests.helpers.documents import minimal_pdf
from tests.helpers.jobs import final_state, printer_id
from tests.helpers.live_server import LiveServer
from tests.helpers.printrig import PrintRig, cups_job_state_of, emulator_job, unique_title
from tests.helpers.waiting import eventually


async def cups_tool(rig: PrintRig, *args: str) -> str:
    """A CUPS command on the rig's cupsd. Not ``subprocess.run``: lpadmin and cupsd call
    the server that runs in this event loop."""
    process = await asyncio.create_subprocess_exec(
        *args,
        env={**os.environ, "CUPS_SERVER": rig.cups_server},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, f"{' '.join(args)}: {text}"
    return text


@pytest.fixture
async def agent(
    live: LiveServer, owner: TestAccount, printrig: PrintRig, tmp_path: Path
) -> AsyncIterator[Agent]:
    cups = CupsBackend(printrig.cups_server, job_timeout=3, poll_interval=0.2)
    running_agent = Agent(
        agent_config(
            live.url, owner, tmp_path / "agent", cups=True, cups_server=printrig.cups_server
        ),
        [cups],
        Journal(tmp_path / "journal.sqlite3"),
    )
    async with running(running_agent):
        yield running_agent
    await cups.close()


@pytest.fixture
async def cloud_queue(
    request: pytest.FixtureRequest,
    agent: Agent,
    live: LiveServer,
    owner: TestAccount,
    printrig: PrintRig,
) -> AsyncIterator[str]:
    """A CUPS queue of the rig's cupsd that is PrintCloud's PDFQ printer, added the way a
    user adds it, with a key of the permission the test names (``indirect``; a
    ``print_only`` key by default, as one would hand out); removed afterwards (others
    share the rig)."""
    permission = getattr(request, "param", Permission.PRINT_ONLY)
    async with httpx.AsyncClient(base_url=live.url) as http:
        pdfq = await printer_id(http, owner, "PDFQ")
    port = live.url.rsplit(":", 1)[1]
    key = owner.keys[permission]
    queue = f"Cloud{secrets.token_hex(4)}"
    uri = f"ipp://{key}:x@127.0.0.1:{port}/ipp/print/{pdfq}"
    await cups_tool(printrig, "lpadmin", "-p", queue, "-E", "-v", uri, "-m", "everywhere")
    try:
        yield queue
    finally:
        await cups_tool(printrig, "lpadmin", "-x", queue)


async def test_lp_prints_through_printcloud_to_the_office_printer(
    cloud_queue: str, live: LiveServer, owner: TestAccount, printrig: PrintRig, tmp_path: Path
) -> None:
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(minimal_pdf("Invoice #456"))
    title = unique_title("ipp-lp")

    output = await cups_tool(
        printrig,
        *("lp", "-d", cloud_queue, "-o", "sides=two-sided-long-edge", "-n", "2"),
        *("-t", title, str(invoice)),
    )
    match = re.search(rf"request id is ({cloud_queue}-\d+)", output)
    assert match, output

    received = await emulator_job(printrig, title)
    assert received["copies"] == [2]
    assert received["sides"] == ["two-sided-long-edge"]
    async with httpx.AsyncClient(base_url=live.url) as http:
        job = await final_state(http, owner, (await printcloud_job(live, owner, title))["id"])
    assert job["state"] == "completed", job["history"]
    assert job["options"]["copies"] == 2
    assert job["options"]["duplex"] == "long-edge"

    async def completed() -> str | None:
        listed = await cups_tool(printrig, "lpstat", "-W", "completed", "-o", cloud_queue)
        return listed if match.group(1) in listed else None

    await eventually(completed)


# Cancel-Job deletes the job, as DELETE /api/printjobs does: it takes a full key.
@pytest.mark.parametrize("cloud_queue", [Permission.FULL], indirect=True)
async def test_a_job_cancelled_in_cups_is_cancelled_in_printcloud(
    cloud_queue: str,
    agent: Agent,
    live: LiveServer,
    owner: TestAccount,
    printrig: PrintRig,
    tmp_path: Path,
) -> None:
    # With its agent gone, the office printer keeps its jobs waiting.
    agent.request_stop()
    await computer_offline(live, owner)
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(minimal_pdf("Invoice #457"))
    title = unique_title("ipp-cancel")
    output = await cups_tool(printrig, "lp", "-d", cloud_queue, "-t", title, str(invoice))
    match = re.search(rf"request id is {cloud_queue}-(\d+)", output)
    assert match, output
    cups_job = int(match.group(1))
    waiting = await printcloud_job(live, owner, title)
    assert waiting["state"] == "pending"

    await cups_tool(printrig, "cancel", f"{cloud_queue}-{cups_job}")

    async def deleted() -> bool | None:
        async with httpx.AsyncClient(base_url=live.url) as http:
            response = await http.get(f"/api/printjobs/{waiting['id']}", auth=owner.auth())
        return True if response.status_code == 404 else None

    await eventually(deleted)
    assert await cups_job_state_of(printrig, cups_job) == CupsJobState.CANCELED


async def printcloud_job(live: LiveServer, owner: TestAccount, title: str) -> dict[str, Any]:
    """PrintCloud's job called ``title``, once there is one (and, when ``final``, done)."""

    async def find() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=live.url) as http:
            jobs = (await http.get("/api/printjobs", auth=owner.auth())).json()
        ours = [j for j in jobs if j["title"] == title]
        assert len(ours) <= 1
        return ours[0] if ours and ours[0]["state"] != "sent" else None

    found: dict[str, Any] = await eventually(find)
    return found


async def computer_offline(live: LiveServer, owner: TestAccount) -> None:
    async def offline() -> bool | None:
        async with httpx.AsyncClient(base_url=live.url) as http:
            computers = (await http.get("/api/computers", auth=owner.auth())).json()
        return True if all(c["state"] == "offline" for c in computers) else None

    await eventually(offline)
