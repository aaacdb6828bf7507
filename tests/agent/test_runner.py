"""The agent against a real PrintCloud server over a real WebSocket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from printcloud.agent.journal import INTERRUPTED, Journal
from printcloud.agent.printers.base import Backend, Document
from printcloud.agent.printers.folder import FolderBackend
from printcloud.agent.printers.raw_socket import RawSocketBackend
from printcloud.agent.reconnect import AgentFatal
from printcloud.agent.runner import Agent
from printcloud.protocol.messages import PrinterInfo
from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.agent import CountingFolder, agent_config, running
from tests.helpers.documents import PDF
from tests.helpers.jobs import final_state, printer_id, submit
from tests.helpers.live_server import LiveServer, free_port, serve
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent

ZPL = b"^XA^FO50,50^ADN,36,20^FDShipping label^FS^XZ"


async def test_a_job_posted_to_the_api_is_printed_on_the_folder_printer(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settings = agent_config(live.url, owner, tmp_path / "agent", folder_printers={"Folder": out})
    agent = Agent(
        settings, [FolderBackend(settings.folder_printers)], Journal(tmp_path / "journal.sqlite3")
    )
    async with running(agent):
        job_id = await submit(
            http,
            owner,
            await printer_id(http, owner, "Folder"),
            options={"copies": 2, "duplex": "long-edge"},
        )
        job = await final_state(http, owner, job_id)

    assert job["state"] == "completed"
    assert (out / f"{job_id}.pdf").read_bytes() == PDF
    meta = json.loads((out / f"{job_id}.json").read_text())
    assert meta["options"] == {"copies": 2, "duplex": "long-edge"}
    assert meta["title"] == "Invoice #456"
    assert [state for state, _ in job["history"]] == ["pending", "sent", "printing", "completed"]
    assert job["history"][-1][1] == f"Written to {out / f'{job_id}.pdf'}"


@contextlib.asynccontextmanager
async def tcp_sink() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A port-9100 printer: every connection's bytes, in order."""
    received: list[bytes] = []

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], received


async def test_raw_job_arrives_byte_identical_qty_times(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    async with tcp_sink() as (port, received):
        settings = agent_config(
            live.url, owner, tmp_path / "agent", raw_printers={"Zebra": f"127.0.0.1:{port}"}
        )
        agent = Agent(
            settings,
            [RawSocketBackend(settings.raw_printers)],
            Journal(tmp_path / "journal.sqlite3"),
        )
        async with running(agent):
            job_id = await submit(
                http,
                owner,
                await printer_id(http, owner, "Zebra"),
                contentType="raw_base64",
                qty=2,
                content=base64.b64encode(ZPL).decode(),
            )
            job = await final_state(http, owner, job_id)
    assert job["state"] == "completed"
    assert received == [ZPL * 2]


async def test_an_unreachable_raw_printer_ends_in_error_with_the_reason(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    settings = agent_config(
        live.url, owner, tmp_path / "agent", raw_printers={"Zebra": f"127.0.0.1:{free_port()}"}
    )
    agent = Agent(
        settings, [RawSocketBackend(settings.raw_printers)], Journal(tmp_path / "journal.sqlite3")
    )
    async with running(agent):
        job_id = await submit(
            http,
            owner,
            await printer_id(http, owner, "Zebra"),
            contentType="raw_base64",
            content=base64.b64encode(ZPL).decode(),
        )
        job = await final_state(http, owner, job_id)
    assert job["state"] == "error"
    assert "unreachable" in job["history"][-1][1]


async def test_a_document_that_cannot_be_had_ends_in_error(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    settings = agent_config(
        live.url, owner, tmp_path / "agent", folder_printers={"Folder": tmp_path / "out"}
    )
    agent = Agent(
        settings, [FolderBackend(settings.folder_printers)], Journal(tmp_path / "journal.sqlite3")
    )
    async with running(agent):
        job_id = await submit(
            http,
            owner,
            await printer_id(http, owner, "Folder"),
            contentType="pdf_uri",
            content="https://example.invalid/a.pdf",
        )
        job = await final_state(http, owner, job_id)
    assert job["state"] == "error"
    assert "could not download" in job["history"][-1][1]


async def test_a_job_resent_after_a_lost_connection_is_not_printed_twice(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    settings = agent_config(live.url, owner, tmp_path / "agent")
    backend = CountingFolder(tmp_path / "out")
    agent = Agent(settings, [backend], Journal(tmp_path / "journal.sqlite3"))

    async def lose_the_connection() -> None:
        backend.during_print = None
        link = agent._link
        assert link is not None
        link.ws.transport.abort()

    backend.during_print = lose_the_connection
    async with running(agent):
        job_id = await submit(http, owner, await printer_id(http, owner, "Folder"))
        job = await final_state(http, owner, job_id)

    assert job["state"] == "completed"
    assert backend.prints == 1
    states = [state for state, _ in job["history"]]
    assert states == ["pending", "sent", "printing", "completed"]


async def test_a_job_printing_when_the_agent_died_is_reported_as_error_not_reprinted(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    settings = agent_config(live.url, owner, tmp_path / "agent")
    journal_path = tmp_path / "journal.sqlite3"
    stuck = CountingFolder(tmp_path / "out")
    stuck.release.clear()  # the printer never finishes: the agent will be killed
    first = Agent(settings, [stuck], Journal(journal_path))
    task = asyncio.create_task(first.run())
    await first.connected.wait()
    job_id = await submit(http, owner, await printer_id(http, owner, "Folder"))

    async def printing() -> bool:
        [job] = (await http.get(f"/api/printjobs/{job_id}", auth=owner.auth())).json()
        return bool(job["state"] == "printing")

    await eventually(printing)
    task.cancel()  # the agent dies mid-print, without a word
    with contextlib.suppress(asyncio.CancelledError):
        await task
    first.journal.close()
    link = first._link
    if link is not None:
        link.ws.transport.abort()

    again = CountingFolder(tmp_path / "out")
    second = Agent(settings, [again], Journal(journal_path))
    async with running(second):
        job = await final_state(http, owner, job_id)
    assert job["state"] == "error"
    assert job["history"][-1][1] == INTERRUPTED
    assert again.prints == 0


async def test_stop_lets_the_job_in_progress_finish_and_report(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    settings = agent_config(live.url, owner, tmp_path / "agent")
    backend = CountingFolder(tmp_path / "out")
    backend.release.clear()
    agent = Agent(settings, [backend], Journal(tmp_path / "journal.sqlite3"))
    task = asyncio.create_task(agent.run())
    await agent.connected.wait()
    job_id = await submit(http, owner, await printer_id(http, owner, "Folder"))
    await eventually(lambda: _positive(backend.prints))

    agent.request_stop()
    await asyncio.wait_for(agent.draining.wait(), 10)
    assert not task.done()  # draining: the job is still printing
    backend.release.set()
    async with asyncio.timeout(10):
        await task
    job = await final_state(http, owner, job_id)
    assert job["state"] == "completed"


async def _positive(value: int) -> bool:
    return value > 0


async def test_a_revoked_key_is_fatal(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    keys = (await http.get("/api/account/apikeys", auth=owner.auth())).json()
    full = next(k for k in keys if owner.keys[Permission.FULL].startswith(k["prefix"]))
    await http.delete(f"/api/account/apikeys/{full['id']}", auth=owner.auth(Permission.FULL))

    agent = Agent(
        agent_config(live.url, owner, tmp_path / "agent"), [], Journal(tmp_path / "journal.sqlite3")
    )
    with pytest.raises(AgentFatal, match="revoked"):
        async with asyncio.timeout(10):
            await agent.run()


async def test_a_full_account_is_not_fatal_the_agent_connects_once_there_is_room(
    runtime_factory: Callable[..., Runtime], tmp_path: Path
) -> None:
    runtime = runtime_factory(max_connections_per_account=1)
    async with serve(runtime) as live:
        owner = await make_account(live.runtime)
        holder = WsAgent(live.ws_url, owner.keys[Permission.FULL], "Other-PC")
        assert (await holder.connect())["type"] == "auth_ok"
        agent = Agent(
            agent_config(live.url, owner, tmp_path / "agent"),
            [],
            Journal(tmp_path / "journal.sqlite3"),
        )
        # One connection, refused for a reason that may pass: no AgentFatal, try again.
        assert (await agent._connection()).authenticated is False
        await holder.close()
        async with running(agent):
            assert agent.connected.is_set()


async def test_a_server_too_busy_for_the_handshake_is_come_back_to_after_its_hint(
    runtime_factory: Callable[..., Runtime], tmp_path: Path
) -> None:
    runtime = runtime_factory(ws_max_handshakes=1)  # PRINTCLOUD_WS_MAX_HANDSHAKES=1
    async with serve(runtime) as live:
        # As a server that measured itself taking one connection a second: its hint is 2 s
        # (the one in flight, then this one's own slot), more than any usual first delay.
        live.runtime.admission.rate = 1.0
        owner = await make_account(live.runtime)
        holder = WsAgent(live.ws_url, owner.keys[Permission.FULL], "Other-PC")
        await holder.open()  # connecting, not authenticated yet: the one place is taken
        agent = Agent(
            agent_config(live.url, owner, tmp_path / "agent"),
            [],
            Journal(tmp_path / "journal.sqlite3"),
        )

        async def refused() -> bool:
            return live.runtime.admission.refused >= 1

        with capture_logs() as logs:
            task = asyncio.create_task(agent.run())
            await eventually(refused)
            await holder.close()
            await live.sockets.until(0)  # the holder's place is given back
            async with asyncio.timeout(15):
                await agent.connected.wait()
            agent.request_stop()
            async with asyncio.timeout(10):
                await task

    [busy] = [entry for entry in logs if entry["event"] == "server_busy"]
    assert busy["reason"] == "server busy; retry_after=2.0"
    assert busy["log_level"] == "info"
    _, refused_at, admitted_at = live.sockets.opened  # the holder, then the agent twice
    assert admitted_at - refused_at >= 2.0  # the server's word, not the usual delay
    assert not any(entry["event"] == "connection_lost" for entry in logs)


async def test_the_agent_keeps_trying_until_the_server_is_there(
    runtime_factory: Callable[..., Runtime], tmp_path: Path
) -> None:
    runtime = runtime_factory(sweep_interval=0.2)
    owner = await make_account(runtime)
    port = free_port()
    agent = Agent(
        agent_config(
            f"http://127.0.0.1:{port}",
            owner,
            tmp_path / "agent",
            folder_printers={"Folder": tmp_path / "out"},
        ),
        [FolderBackend({"Folder": tmp_path / "out"})],
        Journal(tmp_path / "journal.sqlite3"),
    )
    with capture_logs() as logs:
        task = asyncio.create_task(agent.run())

        async def refused_twice() -> bool:
            # Each refused connection is logged, then the wait (backoff) before the next.
            return sum(entry["event"] == "reconnecting" for entry in logs) >= 2

        await eventually(refused_twice)
    assert sum(entry["event"] == "connection_lost" for entry in logs) >= 2
    assert not agent.connected.is_set()
    assert not task.done()  # waiting to try again
    async with serve(runtime, port=port) as server, httpx.AsyncClient(base_url=server.url) as http:
        async with asyncio.timeout(15):
            await agent.connected.wait()
        job_id = await submit(http, owner, await printer_id(http, owner, "Folder"))
        assert (await final_state(http, owner, job_id))["state"] == "completed"
        agent.request_stop()
        await task


async def test_printers_that_appear_are_reported_without_a_restart(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount, tmp_path: Path
) -> None:
    class Growing:
        name = "growing"

        def __init__(self) -> None:
            self.names = ["First"]

        async def printers(self) -> list[PrinterInfo]:
            return [PrinterInfo(name=n) for n in self.names]

        async def print(self, printer: str, document: Document) -> str:
            return "ok"

        async def cancel(self, printer: str, job_id: str) -> bool:
            return False

        async def close(self) -> None:
            return None

    growing = Growing()
    backend: Backend = growing
    agent = Agent(
        agent_config(live.url, owner, tmp_path / "agent"),
        [backend],
        Journal(tmp_path / "journal.sqlite3"),
    )
    async with running(agent):
        await printer_id(http, owner, "First")
        growing.names = ["Second"]
        await printer_id(http, owner, "Second")

        async def first_offline() -> bool:
            printers = (await http.get("/api/printers", auth=owner.auth())).json()
            return any(p["name"] == "First" and p["state"] == "offline" for p in printers)

        await eventually(first_offline)
