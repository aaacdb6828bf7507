"""A server restart as the agents see it: the "try later" answer beyond the handshake
cap, and a shutdown that tells every agent when to come back and writes their computers
offline in one statement. Real uvicorn, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import event, func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from printcloud.protocol.retry_hint import (
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    retry_after,
)
from printcloud.server.agents.admission import RESTART_GRACE
from printcloud.server.db.models import Computer, Event, Printer, PrintJob
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import make_account
from tests.helpers.jobs import printer_id, submit
from tests.helpers.live_server import serve
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent
from tests.server.test_ws import agent


async def _refusal(ws_url: str) -> tuple[int | None, str | None]:
    """Open a socket and wait for the server to close it: its code and reason."""
    async with connect(ws_url, open_timeout=5) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.recv()
        return ws.close_code, ws.close_reason


async def test_beyond_the_handshake_cap_a_connection_is_told_when_to_try_again(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(ws_max_handshakes=1)
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        first = agent(server, owner, "First")
        await first.open()  # connected, not authenticated yet: it holds the one place

        code, reason = await _refusal(server.ws_url)
        assert code == CLOSE_TRY_AGAIN_LATER
        hint = retry_after(code, reason)
        assert hint is not None
        assert hint > 0
        assert runtime.admission.refused == 1

        # Still holding it after auth_ok: the place is kept until the first printers_ok.
        await first.send(
            {"type": "auth", "apiKey": first.api_key, "computerName": "First", "os": "Linux"}
        )
        assert (await first.recv())["type"] == "auth_ok"
        assert (await _refusal(server.ws_url))[0] == CLOSE_TRY_AGAIN_LATER

        await first.report_printers(["HP"])
        await eventually(_in_flight(runtime, 0))  # given back once its queued jobs went
        second = agent(server, owner, "Second")
        assert (await second.connect(printers=["Zebra"]))["type"] == "auth_ok"
        await eventually(_in_flight(runtime, 0))  # given back once its queued jobs went
        await first.close()
        await second.close()


async def test_a_client_that_never_reports_printers_gives_its_place_back(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(ws_max_handshakes=1, ws_auth_timeout=0.5)
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        silent = agent(server, owner, "Silent")
        assert (await silent.connect())["type"] == "auth_ok"  # and no printers, ever
        assert runtime.admission.in_flight == 1
        await eventually(_in_flight(runtime, 0))
        other = agent(server, owner, "Other")
        assert (await other.connect(printers=["HP"]))["type"] == "auth_ok"
        await silent.close()
        await other.close()


async def test_a_shutdown_tells_each_agent_when_to_come_back_and_writes_offline_once(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory()
    statements: list[str] = []
    agents: list[WsAgent] = []
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        for index in range(6):
            agents.append(agent(server, owner, f"PC-{index}"))
            await agents[-1].connect(printers=["Laser", "Label"])

        def record(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    # The server is gone (``serve`` ran uvicorn's shutdown and the lifespan's).
    closes = [(a.ws.close_code, a.ws.close_reason) for a in agents if a.ws is not None]
    assert [code for code, _ in closes] == [CLOSE_SERVICE_RESTART] * 6
    hints = [retry_after(code, reason) for code, reason in closes]
    assert all(hint is not None and hint >= RESTART_GRACE for hint in hints)

    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert sum(" computers " in f" {s} " for s in updates) == 1, updates
    assert sum(" printers " in f" {s} " for s in updates) == 1, updates

    reader = runtime_factory()  # the served runtime's database closed with it
    async with reader.sessionmaker() as session:
        online = await session.scalar(
            select(func.count()).select_from(Computer).where(Computer.state != "offline")
        )
        printers_online = await session.scalar(
            select(func.count()).select_from(Printer).where(Printer.state != "offline")
        )
        news = list(await session.scalars(select(Event.type).order_by(Event.seq)))
    assert online == 0
    assert printers_online == 0
    assert news.count("computer.disconnected") == 6
    assert news[-18:].count("printer.state") == 12  # each computer's two, after it


def _in_flight(runtime: Runtime, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return runtime.admission.in_flight == count

    return check


async def test_a_shutdown_waits_for_the_outcome_of_a_job_sent_without_resume(
    runtime_factory: Callable[..., Runtime],
) -> None:
    """Once the server has closed, what a client says is never read: a job written to a
    client without ``resume`` would end ``error`` although it printed."""
    runtime = runtime_factory()
    stack = contextlib.AsyncExitStack()
    server = await stack.enter_async_context(serve(runtime))
    owner = await make_account(runtime)
    link = agent(server, owner)  # as the original document has it: no resume
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await link.connect(printers=["HP"])
        job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    assert (await link.recv())["job"]["id"] == job_id

    stopping = asyncio.create_task(stack.aclose())
    await eventually(_stopping(runtime))
    assert link.ws is not None
    assert link.ws.close_code is None  # not closed while its job is unanswered
    await link.report(job_id, "printing")
    await link.report(job_id, "completed")
    assert (await link.closed())[0] == CLOSE_SERVICE_RESTART
    await stopping

    reader = runtime_factory()
    async with reader.sessionmaker() as session:
        state = await session.scalar(select(PrintJob.state).where(PrintJob.id == job_id))
    assert state == "completed"


def _stopping(runtime: Runtime) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return runtime.dispatcher.stopping

    return check
