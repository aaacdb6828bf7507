"""What one agent may cost the server: printers kept per computer, messages acted on
per second, log lines written about it, and an agent that leaves while answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs
from uvicorn.protocols.utils import ClientDisconnected

from printcloud.server.agents.socket import AgentConnection, AgentSockets
from printcloud.server.computers.presence import MAX_PRINTERS_PER_COMPUTER
from printcloud.server.db.models import Computer, Printer
from printcloud.server.ratelimit import Rate
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.jobs import printer_id, submit
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent


def _printers(names: list[str]) -> dict[str, Any]:
    return {"type": "printers", "printers": [{"name": n, "capabilities": {}} for n in names]}


async def _printer_count(runtime: Runtime, account_id: str) -> int:
    async with runtime.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Printer).where(Printer.account_id == account_id)
        )
    return int(count or 0)


async def test_new_printer_names_make_room_by_forgetting_the_oldest_unreported(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = WsAgent(live.ws_url, owner.auth()[0])
    first = [f"Old {i}" for i in range(MAX_PRINTERS_PER_COMPUTER)]
    assert (await link.connect(first))["type"] == "auth_ok"
    # A job waits for "Old 0" (its computer keeps it), the others wait for nothing.
    await submit(http, owner, await printer_id(http, owner, "Old 0"), title="waiting")
    assert (await link.recv())["type"] == "print_job"  # sent, not reported: unfinished

    # Rotating names, the shape of the finding: every report brings new ones.
    for round_ in range(3):
        await link.report_printers([f"New {round_}-{i}" for i in range(5)])
    assert await _printer_count(live.runtime, owner.account_id) == MAX_PRINTERS_PER_COMPUTER
    names = {p["name"] for p in (await http.get("/api/printers", auth=owner.auth())).json()}
    assert "Old 0" in names  # a job still waits for it
    assert {f"New {r}-{i}" for r in range(3) for i in range(5)} <= names
    assert not {f"Old {i}" for i in range(1, 16)} & names  # the oldest went first
    await link.close()


async def test_new_printers_that_cannot_fit_are_refused_with_an_error_then_printers_ok(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = WsAgent(live.ws_url, owner.auth()[0])
    first = [f"Old {i}" for i in range(MAX_PRINTERS_PER_COMPUTER)]
    assert (await link.connect(first))["type"] == "auth_ok"
    await submit(http, owner, await printer_id(http, owner, "Old 7"), title="waiting")
    assert (await link.recv())["type"] == "print_job"

    # All new: only the printer a job waits for must stay, so one new name cannot fit.
    await link.send(_printers([f"New {i}" for i in range(MAX_PRINTERS_PER_COMPUTER)]))
    error = await link.recv()
    assert error["type"] == "error"
    assert (
        f"1 new printers were not recorded: a computer keeps at most {MAX_PRINTERS_PER_COMPUTER}"
        in (error["message"])
    )
    assert await link.recv() == {"type": "printers_ok", "count": MAX_PRINTERS_PER_COMPUTER - 1}
    assert await _printer_count(live.runtime, owner.account_id) == MAX_PRINTERS_PER_COMPUTER
    await link.close()


def test_an_agents_messages_go_in_a_burst_then_at_the_rate() -> None:
    connection = AgentConnection.__new__(AgentConnection)
    connection._paced_until = 0.0  # what __init__ sets
    rate = Rate(3, 1.0)
    assert [connection.pace(rate, 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert connection.pace(rate, 100.0) == pytest.approx(1 / 3)
    assert connection.pace(rate, 100.0) == pytest.approx(2 / 3)
    # A quiet while gives the burst back, but never more than the burst.
    assert [connection.pace(rate, 200.0) for _ in range(4)][-1] == pytest.approx(1 / 3)


async def test_an_agent_over_its_message_rate_waits_and_is_logged_once(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(agent_message_rate="3/hour")
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        link = WsAgent(server.ws_url, owner.auth()[0])
        with capture_logs() as logs:
            assert (await link.connect())["type"] == "auth_ok"
            for _ in range(4):
                await link.send({"type": "hello"})
            for _ in range(3):  # the budget: a burst of three
                assert (await link.recv())["type"] == "error"

            def paced() -> bool:
                return any(line["event"] == "agent_paced" for line in logs)

            async def seen() -> bool:
                return paced()

            await eventually(seen)
        assert [line["rate"] for line in logs if line["event"] == "agent_paced"] == ["3/3600s"]
        await link.drop()


async def test_a_flood_of_refused_job_states_writes_a_few_log_lines(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(agent_message_rate="100000/s")
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        link = WsAgent(server.ws_url, owner.auth()[0])
        assert (await link.connect(["HP"]))["type"] == "auth_ok"
        with capture_logs() as logs:
            for i in range(150):
                await link.report(f"pj_unknown{i}", "completed")
            for _ in range(150):
                assert (await link.recv())["type"] == "error"  # each is still answered
        refused = [line for line in logs if line["event"] == "job_state_refused"]
        assert [line["count"] for line in refused] == [*range(1, 11), 100]
        await link.close()


async def test_an_agent_that_leaves_while_answered_ends_quietly(
    live: LiveServer, owner: TestAccount
) -> None:
    """The server's answer to a job state finds the client gone (uvicorn raises
    ClientDisconnected from ``send``): the socket ends as a disconnect, its computer
    goes offline, and nothing escapes as "Exception in ASGI application"."""
    key = owner.auth()[0]
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in (
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": json.dumps(_auth(key))},
        {"type": "websocket.receive", "text": json.dumps(_printers(["HP"]))},
        {"type": "websocket.receive", "text": json.dumps(_unknown_job_state())},
    ):
        incoming.put_nowait(message)
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return await incoming.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "websocket.send" and '"error"' in message.get("text", ""):
            raise ClientDisconnected  # what uvicorn does once the peer's TCP is gone
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    sockets = AgentSockets(app=_no_http, ports=live.runtime.agent_ports)
    await sockets(scope, receive, send)  # returns: nothing escapes

    assert [json.loads(m["text"])["type"] for m in sent if m["type"] == "websocket.send"] == [
        "auth_ok",
        "printers_ok",
    ]
    async with live.runtime.sessionmaker() as session:
        states = (
            await session.scalars(
                select(Computer.state).where(Computer.account_id == owner.account_id)
            )
        ).all()
    assert states == ["offline"]


def _auth(key: str) -> dict[str, Any]:
    return {"type": "auth", "apiKey": key, "computerName": "Leaving", "os": "Linux"}


def _unknown_job_state() -> dict[str, Any]:
    return {"type": "job_state", "jobId": "pj_nosuchjob", "state": "completed"}


async def _no_http(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("only /ws is asked for")
