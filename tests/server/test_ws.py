"""The agent WebSocket over real sockets: a real uvicorn, a real client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update

from printcloud.server.accounts.permissions import Permission
from printcloud.server.db.models import Event, PrintJob
from printcloud.server.db.types import utcnow
from printcloud.server.jobs import service
from printcloud.server.jobs.schemas import PrintJobIn
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.documents import PDF_B64, ZPL_B64
from tests.helpers.jobs import printer_id, submit
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent


def agent(
    live: LiveServer,
    account: TestAccount,
    name: str = "Office-PC",
    *,
    features: list[str] | None = None,
    machine_id: str | None = None,
) -> WsAgent:
    """A client written from the original document, unless given [ext] features."""
    return WsAgent(
        live.ws_url, account.keys[Permission.FULL], name, features=features, machine_id=machine_id
    )


async def job(http: httpx.AsyncClient, account: TestAccount, job_id: str) -> dict[str, Any]:
    [found] = (await http.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    return dict(found)


async def states(http: httpx.AsyncClient, account: TestAccount, job_id: str) -> list[str]:
    history = (await http.get(f"/api/printjobs/{job_id}/states", auth=account.auth())).json()
    return [s["state"] for s in history]


async def computer(http: httpx.AsyncClient, account: TestAccount) -> dict[str, Any]:
    [found] = (await http.get("/api/computers", auth=account.auth())).json()
    return dict(found)


# connecting


async def test_auth_registers_the_computer_online_with_the_same_id_on_reconnect(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    first = agent(live, owner)
    answer = await first.connect()
    assert answer == {"type": "auth_ok", "computerId": first.computer_id}
    shown = await computer(http, owner)
    assert shown["id"] == first.computer_id
    assert shown["state"] == "online"
    assert shown["os"] == "Linux"
    assert shown["clientVersion"] == "1.0.0"
    await first.close()
    await eventually(lambda: _state_is(http, owner, "offline"))

    again = agent(live, owner)
    assert (await again.connect())["computerId"] == first.computer_id
    await eventually(lambda: _state_is(http, owner, "online"))
    await again.close()


async def _state_is(http: httpx.AsyncClient, account: TestAccount, state: str) -> bool:
    return bool((await computer(http, account))["state"] == state)


async def test_connect_and_disconnect_write_events(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect()
    await link.drop()
    await eventually(lambda: _state_is(http, owner, "offline"))
    async with live.runtime.sessionmaker() as session:
        types = (
            await session.scalars(
                select(Event.type).where(Event.account_id == owner.account_id).order_by(Event.seq)
            )
        ).all()
    assert types == ["computer.connected", "computer.disconnected"]


@pytest.mark.parametrize(
    ("key", "expected", "reason"),
    [
        ("pk_live_wrong", "Invalid API key", "invalid_key"),
        ("read_only", "does not allow connecting a computer", "permission_denied"),
        ("print_only", "does not allow connecting a computer", "permission_denied"),
    ],
)
async def test_bad_keys_get_auth_error_and_a_close(
    live: LiveServer, owner: TestAccount, key: str, expected: str, reason: str
) -> None:
    api_key = owner.keys[Permission(key)] if key in ("read_only", "print_only") else key
    link = WsAgent(live.ws_url, api_key)
    answer = await link.connect()
    assert answer["type"] == "auth_error"
    assert expected in answer["message"]
    assert answer["reason"] == reason
    assert (await link.closed())[0] == 1008


async def test_a_revoked_key_is_refused_with_its_reason(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    created = await http.post(
        "/api/account/apikeys",
        auth=owner.auth(),
        json={"description": "agent", "permission": "full"},
    )
    revoked = await http.delete(f"/api/account/apikeys/{created.json()['id']}", auth=owner.auth())
    assert revoked.status_code == 200
    answer = await WsAgent(live.ws_url, created.json()["key"]).connect()
    assert answer == {
        "type": "auth_error",
        "message": "This API key has been revoked",
        "reason": "key_revoked",
    }


async def test_no_auth_in_time_gets_auth_error(live: LiveServer) -> None:
    link = WsAgent(live.ws_url, "unused")
    await link.open()
    answer = await link.recv(timeout=5)
    assert answer == {
        "type": "auth_error",
        "message": "Authentication timed out: send auth first",
        "reason": "auth_timeout",
    }
    assert (await link.closed())[0] == 1008


async def test_first_message_must_be_auth(live: LiveServer, owner: TestAccount) -> None:
    link = agent(live, owner)
    await link.open()
    await link.send({"type": "printers", "printers": []})
    answer = await link.recv()
    assert answer["type"] == "auth_error"
    assert "authenticate first" in answer["message"]
    assert answer["reason"] == "bad_auth"
    assert (await link.closed())[0] == 1008


# printers


async def test_printers_are_reported_and_missing_ones_go_offline(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["HP LaserJet Pro", "Zebra"])

    printers = (await http.get("/api/printers", auth=owner.auth())).json()
    assert {(p["name"], p["state"], p["isDefault"]) for p in printers} == {
        ("HP LaserJet Pro", "online", True),
        ("Zebra", "online", False),
    }
    assert all(p["computerId"] == link.computer_id for p in printers)
    assert printers[0]["capabilities"] == {"color": True, "duplex": True}

    await link.report_printers(["Zebra"])
    printers = (await http.get("/api/printers", auth=owner.auth())).json()
    assert {(p["name"], p["state"]) for p in printers} == {
        ("HP LaserJet Pro", "offline"),
        ("Zebra", "online"),
    }
    ids_before = {p["name"]: p["id"] for p in printers}
    await link.report_printers(["HP LaserJet Pro", "Zebra"])
    printers = (await http.get("/api/printers", auth=owner.auth())).json()
    assert {p["name"]: p["id"] for p in printers} == ids_before
    async with live.runtime.sessionmaker() as session:
        events = (
            await session.scalars(
                select(Event).where(Event.type == "printer.state").order_by(Event.seq)
            )
        ).all()
    assert [e.payload["state"] for e in events] == ["online", "online", "offline", "online"]
    await link.close()


# dispatch


async def test_online_job_is_delivered_at_once_and_its_states_flow_back(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["HP LaserJet"])
    printer = await printer_id(http, owner, "HP LaserJet")

    job_id = await submit(http, owner, printer, qty=2, options={"copies": 2})
    message = await link.recv()

    assert message == {
        "type": "print_job",
        "job": {
            "id": job_id,
            "printerName": "HP LaserJet",
            "contentType": "pdf_base64",
            "content": PDF_B64,
            "title": "Invoice #456",
            "options": {"copies": 2},
            "qty": 2,
        },
    }
    assert (await job(http, owner, job_id))["state"] == "sent"
    await link.report(job_id, "printing")
    await link.report(job_id, "completed", "Printed to HP LaserJet")
    await eventually(lambda: _job_state_is(http, owner, job_id, "completed"))
    history = (await http.get(f"/api/printjobs/{job_id}/states", auth=owner.auth())).json()
    assert [(h["state"], h["message"]) for h in history] == [
        ("pending", "Job created"),
        ("sent", "Sent to Office-PC"),
        ("printing", "Printing on Office-PC"),
        ("completed", "Printed to HP LaserJet"),
    ]
    async with live.runtime.sessionmaker() as session:
        events = (
            await session.scalars(
                select(Event)
                .where(Event.type.in_(["job.created", "job.state"]))
                .order_by(Event.seq)
            )
        ).all()
    assert [(e.type, e.payload["state"]) for e in events] == [
        ("job.created", "pending"),
        ("job.state", "sent"),
        ("job.state", "printing"),
        ("job.state", "completed"),
    ]
    await link.close()


async def _job_state_is(
    http: httpx.AsyncClient, account: TestAccount, job_id: str, state: str
) -> bool:
    return bool((await job(http, account, job_id))["state"] == state)


async def test_offline_job_waits_and_is_sent_on_reconnect_oldest_first(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["Zebra"])
    printer = await printer_id(http, owner, "Zebra")
    await link.close()
    await eventually(lambda: _state_is(http, owner, "offline"))

    queued = [
        await submit(http, owner, printer, contentType="raw_base64", content=ZPL_B64)
        for _ in range(3)
    ]
    assert [(await job(http, owner, j))["state"] for j in queued] == ["pending"] * 3

    back = agent(live, owner)
    await back.connect(printers=["Zebra"])
    received = [(await back.recv())["job"]["id"] for _ in queued]
    assert received == queued
    assert [(await job(http, owner, j))["state"] for j in queued] == ["sent"] * 3
    await back.close()


async def test_with_resume_a_job_sent_but_unreported_is_sent_again_after_reconnect(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner, features=["resume"])
    await link.connect(printers=["HP"])
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    assert (await link.recv())["job"]["id"] == job_id
    await link.drop()

    back = agent(live, owner, features=["resume"])
    await back.connect(printers=["HP"])
    again = await back.recv()
    assert again["job"]["id"] == job_id
    await back.report(job_id, "completed")
    await eventually(lambda: _job_state_is(http, owner, job_id, "completed"))
    assert await states(http, owner, job_id) == ["pending", "sent", "completed"]
    await back.close()


async def test_duplicate_and_out_of_order_reports_change_nothing(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["HP"])
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    await link.recv()

    await link.report(job_id, "completed")
    await link.report(job_id, "completed")
    await link.report(job_id, "printing")
    await link.report(job_id, "error", "late failure")
    other = await submit(http, owner, await printer_id(http, owner, "HP"))
    assert (await link.recv())["job"]["id"] == other  # the reports above were all read

    assert (await job(http, owner, job_id))["state"] == "completed"
    assert await states(http, owner, job_id) == ["pending", "sent", "completed"]
    await link.close()


async def test_job_state_for_another_accounts_job_is_refused(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    victim = await make_account(live.runtime)
    victim_agent = agent(live, victim, "Victim-PC")
    await victim_agent.connect(printers=["HP"])
    victims_job = await submit(http, victim, await printer_id(http, victim, "HP"))
    await victim_agent.recv()

    attacker = agent(live, owner, "Office-PC")
    await attacker.connect(printers=["HP"])
    await attacker.report(victims_job, "completed")
    assert await attacker.recv() == {"type": "error", "message": f"Unknown job {victims_job}"}
    await attacker.report("pj_doesnotexist", "error")
    assert await attacker.recv() == {"type": "error", "message": "Unknown job pj_doesnotexist"}

    assert (await job(http, victim, victims_job))["state"] == "sent"
    assert await states(http, victim, victims_job) == ["pending", "sent"]
    await attacker.close()
    await victim_agent.close()


async def test_expired_jobs_are_never_sent(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory(sweep_interval=3600.0)  # no sweep but the test's own
    async with serve(runtime) as server, httpx.AsyncClient(base_url=server.url) as http:
        owner = await make_account(runtime)
        link = agent(server, owner)
        await link.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")
        await link.close()
        await eventually(lambda: _state_is(http, owner, "offline"))

        expiring = await submit(http, owner, printer, expireAfter=1)
        lasting = await submit(http, owner, printer)
        # Its second is over: the deadline is moved back rather than waited for.
        async with runtime.sessionmaker() as session:
            await session.execute(
                update(PrintJob)
                .where(PrintJob.id == expiring)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        await runtime.dispatcher.sweep()
        assert (await job(http, owner, expiring))["state"] == "expired"
        assert (await job(http, owner, lasting))["state"] == "pending"

        back = agent(server, owner)
        await back.connect(printers=["HP"])
        assert (await back.recv())["job"]["id"] == lasting
        await runtime.dispatcher.sweep()  # which sends nothing more either
        after = await submit(http, owner, printer)
        assert (await back.recv())["job"]["id"] == after  # the next thing sent
        history = (await http.get(f"/api/printjobs/{expiring}/states", auth=owner.auth())).json()
        assert [(h["state"], h["message"]) for h in history] == [
            ("pending", "Job created"),
            ("expired", "Not delivered before its expiry"),
        ]
        await back.close()


async def test_a_second_connection_replaces_the_first(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    first = agent(live, owner)
    await first.connect(printers=["HP"])
    second = agent(live, owner)
    await second.connect(printers=["HP"])

    assert second.computer_id == first.computer_id
    assert await first.closed() == (4000, "replaced by a new connection")
    await live.sockets.until(1)  # the replaced handler has returned, its cleanup done
    assert (await computer(http, owner))["state"] == "online"
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    assert (await second.recv())["job"]["id"] == job_id
    await second.close()


async def test_a_job_written_without_a_wake_up_is_sent_by_the_sweep(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(sweep_interval=3600.0)  # no sweep but the test's own
    async with serve(runtime) as server, httpx.AsyncClient(base_url=server.url) as http:
        owner = await make_account(runtime)
        link = agent(server, owner)
        await link.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")
        # As if the wake-up were lost: the job is committed, nobody is told.
        async with runtime.sessionmaker() as session:
            checked = await service.check_job(
                runtime.settings,
                PrintJobIn.model_validate(
                    {
                        "printerId": printer,
                        "contentType": "pdf_base64",
                        "content": PDF_B64,
                    }
                ),
            )
            job_id = await service.create_job(session, owner.account_id, checked)
            await session.commit()  # not the unit of work's commit: no wake-up follows
        assert (await job(http, owner, job_id))["state"] == "pending"

        await runtime.dispatcher.sweep()

        assert (await link.recv(timeout=5))["job"]["id"] == job_id
        assert (await job(http, owner, job_id))["state"] == "sent"
        await link.close()


# limits and bad input


async def test_malformed_json_closes_only_that_connection(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    bystander = agent(live, owner, "Bystander")
    await bystander.connect(printers=["HP"])
    rude = agent(live, owner, "Rude")
    await rude.connect()

    await rude.send("{this is not json")
    code, reason = await rude.closed()
    assert code == 1007
    assert reason is not None
    assert "malformed JSON" in reason
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    assert (await bystander.recv())["job"]["id"] == job_id
    await bystander.close()


async def test_oversized_message_is_closed_with_1009(live: LiveServer, owner: TestAccount) -> None:
    link = agent(live, owner)
    await link.connect()
    await link.send({"type": "printers", "printers": [{"name": "x" * 100}] * 1000})
    assert (await link.closed())[0] == 1009


async def test_unknown_types_and_bad_messages_are_answered_not_fatal(
    live: LiveServer, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect()
    await link.send({"type": "hello"})
    assert await link.recv() == {"type": "error", "message": "unknown message type 'hello'"}
    await link.send({"type": "job_state", "jobId": "pj_x", "state": "sent"})
    assert (await link.recv())["type"] == "error"
    await link.send({"type": "auth", "apiKey": "x", "computerName": "y"})
    assert await link.recv() == {"type": "error", "message": "already authenticated"}
    await link.report_printers(["still here"])
    await link.close()


async def test_connections_per_account_are_capped(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory(max_connections_per_account=1, sweep_interval=0.2)
    async with serve(runtime) as server:
        owner = await make_account(runtime)
        first = agent(server, owner, "One")
        assert (await first.connect())["type"] == "auth_ok"
        second = agent(server, owner, "Two")
        answer = await second.connect()
        assert answer == {
            "type": "auth_error",
            "message": "This account already has 1 connected computers",
            "reason": "too_many_computers",
        }
        same = agent(server, owner, "One")  # the same computer reconnecting is not refused
        assert (await same.connect())["type"] == "auth_ok"
        await same.close()


async def test_deleting_a_connected_computer_closes_its_connection(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["HP"])
    response = await http.delete(f"/api/computers/{link.computer_id}", auth=owner.auth())
    assert response.status_code == 200
    assert await link.closed() == (4001, "the computer was removed from the account")
    assert (await http.get("/api/computers", auth=owner.auth())).json() == []


async def test_a_silent_peer_is_found_dead_by_server_pings(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(ws_ping_interval=0.2, ws_ping_timeout=0.3, sweep_interval=0.2)
    async with serve(runtime) as server, httpx.AsyncClient(base_url=server.url) as http:
        owner = await make_account(runtime)
        link = agent(server, owner)
        await link.connect(printers=["HP"])
        assert link.ws is not None
        # The TCP connection stays open, but nothing is read: pings go unanswered,
        # as with a computer that froze or lost its network without a word.
        link.ws.transport.pause_reading()
        await eventually(lambda: _state_is(http, owner, "offline"), timeout=10)
        # ... and its printers with it: nothing can print through a computer gone silent.
        [printer] = (await http.get("/api/printers", auth=owner.auth())).json()
        assert printer["state"] == "offline"
        link.ws.transport.abort()


async def test_with_resume_a_job_left_printing_is_sent_again_for_its_outcome(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner, features=["resume"])
    await link.connect(printers=["HP"])
    job_id = await submit(http, owner, await printer_id(http, owner, "HP"))
    await link.recv()
    await link.report(job_id, "printing")
    await eventually(lambda: _job_state_is(http, owner, job_id, "printing"))
    await link.drop()  # the outcome never arrived

    back = agent(live, owner, features=["resume"])
    await back.connect(printers=["HP"])
    assert (await back.recv())["job"]["id"] == job_id  # the journal will answer it
    await back.report(job_id, "completed", "already printed")
    await eventually(lambda: _job_state_is(http, owner, job_id, "completed"))
    assert await states(http, owner, job_id) == ["pending", "sent", "printing", "completed"]
    await back.close()


async def test_a_printer_reported_offline_is_shown_offline(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect()
    await link.send(
        {
            "type": "printers",
            "printers": [{"name": "Stopped queue", "state": "offline"}, {"name": "Working queue"}],
        }
    )
    assert await link.recv() == {"type": "printers_ok", "count": 2}
    printers = (await http.get("/api/printers", auth=owner.auth())).json()
    assert {p["name"]: p["state"] for p in printers} == {
        "Stopped queue": "offline",
        "Working queue": "online",
    }
    await link.close()


@pytest.mark.parametrize("path", ["/ws", "/ws/"])
async def test_the_socket_is_served_without_compression_at_both_spellings(
    live: LiveServer, owner: TestAccount, path: str
) -> None:
    # permessage-deflate would cost every idle agent its own zlib buffers on the server.
    agent = WsAgent(live.ws_url.removesuffix("/ws") + path, owner.keys[Permission.FULL])
    await agent.open()
    assert agent.ws is not None
    assert "sec-websocket-extensions" not in agent.ws.response.headers  # type: ignore[union-attr]
    await agent.close()
    answer = await agent.connect(["HP"])
    assert answer["type"] == "auth_ok"
    await agent.close()


async def test_an_online_computer_is_seen_now_and_an_offline_one_when_it_went(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    link = agent(live, owner)
    await link.connect(printers=["HP"])
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = live.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    await live.runtime.dispatcher.sweep()  # a heartbeat writes nothing for its computers
    event.remove(engine, "before_cursor_execute", record)
    assert not [s for s in statements if s.startswith("UPDATE computers SET last_seen_at")]
    before = utcnow()
    seen = datetime.fromisoformat((await computer(http, owner))["lastSeenAt"])
    assert seen >= before.replace(microsecond=0)

    await link.close()
    await eventually(lambda: _state_is(http, owner, "offline"))
    went = (await computer(http, owner))["lastSeenAt"]
    assert datetime.fromisoformat(went) <= utcnow()
    await live.runtime.dispatcher.sweep()
    assert (await computer(http, owner))["lastSeenAt"] == went
