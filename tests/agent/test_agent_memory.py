"""An agent that printed large documents gives their memory back (issue 14: one held
168 MB after two 30 MB jobs, and an office's agent runs for months)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.accounts import make_account
from tests.helpers.documents import minimal_pdf
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.waiting import eventually

MB = 1024 * 1024
DOCUMENT = 20 * MB


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def large_pdf(size: int) -> bytes:
    """A valid one-page PDF made ``size`` bytes long by a comment of random text, which
    nothing can compress away."""
    pdf = minimal_pdf()
    head, tail = pdf.rsplit(b"%%EOF", 1)
    filler = os.urandom(size // 2).hex().encode()[: size - len(pdf)]
    return head + b"%" + filler + b"\n%%EOF" + tail


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The agent's memory does not depend on the server's database: one is enough."""
    return sqlite_url


@pytest.fixture
async def big_live(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    runtime = runtime_factory(ws_max_message_size=64 * MB, max_document_size=48 * MB)
    async with serve(runtime) as server:
        yield server


async def test_the_agent_returns_the_memory_of_large_jobs(
    big_live: LiveServer, tmp_path: Path
) -> None:
    account = await make_account(big_live.runtime)
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps(
            {
                "server": big_live.url,
                "api_key": account.auth()[0],
                "cups": False,
                "folder_printers": {"Folder": str(tmp_path / "out")},
                "data_dir": str(tmp_path / "data"),
            }
        )
    )
    log = (tmp_path / "agent.log").open("wb")
    agent = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "printcloud", "agent", "run", "--config", str(config)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(
            base_url=big_live.url, auth=account.auth(), timeout=60
        ) as http:

            async def printer() -> str | None:
                listed = (await http.get("/api/printers")).json()
                return next((p["id"] for p in listed if p["name"] == "Folder"), None)

            printer_id = await eventually(printer, timeout=30)
            idle = rss(agent.pid)
            content = base64.b64encode(large_pdf(DOCUMENT)).decode()
            for number in range(2):
                created = await http.post(
                    "/api/printjobs",
                    json={
                        "printerId": printer_id,
                        "title": f"large {number}",
                        "contentType": "pdf_base64",
                        "content": content,
                    },
                )
                assert created.status_code == 201, created.text
                job_id = created.json()

                async def completed(job_id: str = job_id) -> bool:
                    [job] = (await http.get(f"/api/printjobs/{job_id}")).json()
                    assert job["state"] not in ("error", "cancelled", "expired"), job
                    return job["state"] == "completed"

                await eventually(completed, timeout=60)
        assert (tmp_path / "out").is_dir()
        # The document passed through as a 27 MB message, its text and its bytes, twice:
        # kept, that was 135 MB more than at rest. What may stay is the last message's
        # frame, which the websockets library holds until the next frame arrives.
        grown = rss(agent.pid) - idle
        assert grown < 2 * DOCUMENT, f"{grown / MB:.0f} MB more than at rest"
    finally:
        agent.terminate()
        await asyncio.wait_for(agent.wait(), 30)
        log.close()
