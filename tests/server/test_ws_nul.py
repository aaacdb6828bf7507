"""U+0000 on the agent WebSocket: an ``auth_error`` for ``auth``, an ``error`` reply for
the others with the socket still usable, on both backends. PostgreSQL cannot store it:
these messages dropped the socket there with no reply."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from printcloud.protocol.nul import RULE
from printcloud.protocol.session import CLOSE_POLICY
from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import final_state, printer_id, submit
from tests.helpers.live_server import LiveServer
from tests.helpers.ws_agent import WsAgent

NUL = "\u0000"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"computerName": f"Office{NUL}PC"}, "computerName"),
        ({"os": f"Linux{NUL}"}, "os"),
        ({"machineId": f"m{NUL}"}, "machineId"),
        ({"features": ["resume", f"x{NUL}"]}, "features.1"),
    ],
)
async def test_auth_with_nul_is_refused_naming_the_field(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    fields: dict[str, Any],
    field: str,
) -> None:
    agent = WsAgent(live.ws_url, owner.keys[Permission.FULL])
    await agent.open()
    await agent.send(
        {"type": "auth", "apiKey": agent.api_key, "computerName": "Office-PC", **fields}
    )

    answer = await agent.recv()

    assert answer["type"] == "auth_error", answer
    assert answer["reason"] == "bad_auth"
    assert f"{field}: {RULE}" in answer["message"], answer
    code, _ = await agent.closed()
    assert code == CLOSE_POLICY
    assert (await http.get("/api/computers", auth=owner.auth())).json() == []


@pytest.mark.parametrize(
    ("printer", "field"),
    [
        ({"name": f"HP{NUL}LaserJet"}, "printers.1.name"),
        (
            {"name": "HP", "capabilities": {"media": ["A4", f"A{NUL}"]}},
            "printers.1.capabilities.media.1",
        ),
        ({"name": "HP", "capabilities": {f"co{NUL}lor": True}}, "printers.1.capabilities"),
    ],
)
async def test_printers_with_nul_get_an_error_and_the_socket_stays_usable(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    printer: dict[str, Any],
    field: str,
) -> None:
    agent = WsAgent(live.ws_url, owner.keys[Permission.FULL])
    await agent.connect(printers=["Before"])

    await agent.send({"type": "printers", "printers": [{"name": "Fine"}, printer]})

    answer = await agent.recv()
    assert answer["type"] == "error", answer
    assert f"{field}: {RULE}" in answer["message"], answer
    await agent.report_printers(["After"])  # the socket still works
    names = {p["name"] for p in (await http.get("/api/printers", auth=owner.auth())).json()}
    assert names == {"Before", "After"}
    await agent.close()


@pytest.mark.parametrize(
    ("report", "field"),
    [
        ({"message": f"Printed{NUL}"}, "message"),
        ({"jobId": f"pj_{NUL}"}, "jobId"),
    ],
)
async def test_a_job_state_with_nul_gets_an_error_and_the_socket_stays_usable(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    report: dict[str, Any],
    field: str,
) -> None:
    agent = WsAgent(live.ws_url, owner.keys[Permission.FULL])
    await agent.connect(printers=["HP"])
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    sent = await agent.recv()
    assert sent["job"]["id"] == job_id

    await agent.send({"type": "job_state", "jobId": job_id, "state": "completed", **report})

    answer = await agent.recv()
    assert answer["type"] == "error", answer
    assert f"{field}: {RULE}" in answer["message"], answer
    await agent.report(job_id, "completed", "Printed to HP")  # the socket still works
    job = await final_state(http, owner, job_id)
    assert job["history"][-1] == ("completed", "Printed to HP")
    await agent.close()
