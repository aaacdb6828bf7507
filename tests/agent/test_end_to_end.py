"""The whole way: a job POSTed to the API, the server, the agent, CUPS, the printer.

On the print rig (scripts/printrig.sh): a private CUPS whose PDFQ queue prints to an IPP
Everywhere printer emulator and whose ZPLQ queue sends raw data to a socket sink.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from printcloud.agent.journal import Journal
from printcloud.agent.printers.cups import CupsBackend
from printcloud.agent.runner import Agent
from tests.helpers.accounts import TestAccount
from tests.helpers.agent import agent_config, running
from tests.helpers.documents import minimal_pdf
from tests.helpers.jobs import final_state, printer_id
from tests.helpers.live_server import LiveServer
from tests.helpers.printrig import (
    PrintRig,
    cups_job_waiting,
    emulator_job,
    run_cups_tool,
    sink_file_with,
    sink_files_with,
    unique_title,
)
from tests.helpers.waiting import eventually


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
    )
    cups = CupsBackend(printrig.cups_server, job_timeout=3, poll_interval=0.2)
    running_agent = Agent(settings, [cups], Journal(tmp_path / "journal.sqlite3"))
    async with running(running_agent):
        yield running_agent
    await cups.close()


async def post(http: httpx.AsyncClient, account: TestAccount, body: dict[str, Any]) -> str:
    response = await http.post("/api/printjobs", auth=account.auth(), json=body)
    assert response.status_code == 201, response.text
    return str(response.json())


async def test_cups_queues_are_reported_with_their_capabilities(
    agent: Agent, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    await printer_id(http, owner, "PDFQ")
    printers = {p["name"]: p for p in (await http.get("/api/printers", auth=owner.auth())).json()}
    pdfq = printers["PDFQ"]["capabilities"]
    assert pdfq["color"] is True
    assert pdfq["duplex"] is True
    assert "iso_a4_210x297mm" in pdfq["media"]
    assert printers["ZPLQ"]["state"] == "online"


async def test_a_pdf_posted_to_the_api_reaches_the_printer_with_its_options(
    agent: Agent, http: httpx.AsyncClient, owner: TestAccount, printrig: PrintRig
) -> None:
    title = unique_title("api-pdf")
    job_id = await post(
        http,
        owner,
        {
            "printerId": await printer_id(http, owner, "PDFQ"),
            "contentType": "pdf_base64",
            "content": base64.b64encode(minimal_pdf()).decode(),
            "title": title,
            "options": {"copies": 2, "duplex": "long-edge", "color": False, "paper": "A4"},
        },
    )

    job = await final_state(http, owner, job_id)

    assert job["state"] == "completed", job["history"]
    assert [state for state, _ in job["history"]] == ["pending", "sent", "printing", "completed"]
    assert list(printrig.ipp_spool.glob(f"*-{title}.pdf"))
    received = await emulator_job(printrig, title)
    assert received["copies"] == [2]
    assert received["sides"] == ["two-sided-long-edge"]
    assert received["print-color-mode"] == ["monochrome"]


async def test_a_zpl_label_arrives_byte_identical(
    agent: Agent, http: httpx.AsyncClient, owner: TestAccount, printrig: PrintRig
) -> None:
    label = b"^XA^FO50,50^ADN,36,20^FD" + secrets.token_hex(8).encode() + b"^FS^XZ"
    job_id = await post(
        http,
        owner,
        {
            "printerId": await printer_id(http, owner, "ZPLQ"),
            "contentType": "raw_base64",
            "content": base64.b64encode(label).decode(),
            "title": unique_title("api-zpl"),
        },
    )

    job = await final_state(http, owner, job_id)

    assert job["state"] == "completed", job["history"]
    assert await sink_file_with(printrig, label) == label


async def test_a_broken_pdf_ends_in_error_with_the_reason(
    agent: Agent, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    job_id = await post(
        http,
        owner,
        {
            "printerId": await printer_id(http, owner, "PDFQ"),
            "contentType": "pdf_base64",
            "content": base64.b64encode(b"%PDF-1.4 this is not a document").decode(),
            "title": unique_title("api-broken"),
        },
    )

    job = await final_state(http, owner, job_id)

    assert job["state"] == "error"
    assert "job-completed-with-errors" in job["history"][-1][1]


async def test_an_unreachable_printer_ends_in_error_after_the_timeout(
    dead_queue: str, agent: Agent, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    job_id = await post(
        http,
        owner,
        {
            "printerId": await printer_id(http, owner, dead_queue),
            "contentType": "raw_base64",
            "content": base64.b64encode(b"^XA^XZ").decode(),
        },
    )
    job = await final_state(http, owner, job_id)
    assert job["state"] == "error"
    assert job["history"][-1][1].startswith("no progress within 3 s; cancelled")


async def test_a_paused_printer_keeps_the_job_waiting_says_why_and_prints_it_when_resumed(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    printrig: PrintRig,
    paused_queue: str,
    tmp_path: Path,
) -> None:
    settings = agent_config(
        live.url, owner, tmp_path / "agent", cups=True, only_printers=[paused_queue]
    )
    # A short no-progress limit: a job waiting for a person must outlive it.
    cups = CupsBackend(printrig.cups_server, job_timeout=0.5, poll_interval=0.2)
    title = unique_title("resumed")
    label = f"^XA^FD{title}^FS^XZ".encode()
    waiting = f"Waiting: printer {paused_queue} is paused (Paused)"
    try:
        async with running(Agent(settings, [cups], Journal(tmp_path / "journal.sqlite3"))):
            job_id = await post(
                http,
                owner,
                {
                    "printerId": await printer_id(http, owner, paused_queue),
                    "contentType": "raw_base64",
                    "content": base64.b64encode(label).decode(),
                    "title": title,
                },
            )

            async def told_why() -> bool:
                states = (
                    await http.get(f"/api/printjobs/{job_id}/states", auth=owner.auth())
                ).json()
                return [states[-1]["state"], states[-1]["message"]] == ["printing", waiting]

            await eventually(told_why)
            cups_job = await cups_job_waiting(printrig, paused_queue, title)
            await asyncio.sleep(1.5)  # three no-progress limits: still waiting, not failed
            [job] = (await http.get(f"/api/printjobs/{job_id}", auth=owner.auth())).json()
            assert job["state"] == "printing"
            run_cups_tool(printrig, "cupsenable", paused_queue)
            job = await final_state(http, owner, job_id)
    finally:
        await cups.close()
    assert job["state"] == "completed", job["history"]
    assert [state for state, _ in job["history"]][:2] == ["pending", "sent"]
    assert job["history"][2:4] == [
        ("printing", f"Printing on {paused_queue}"),
        ("printing", waiting),
    ]
    assert job["history"][-1] == ("completed", f"Printed on {paused_queue} (CUPS job {cups_job})")
    assert len(sink_files_with(printrig, label)) == 1
