"""Redis and PostgreSQL going away under load, and coming back: on private servers of
the test's own (tests/helpers/private_services.py), killed (SIGKILL) or stopped and
started again on the same port, while the PrintCloud server keeps running.

What must hold: no 500 (a 503 with ``Retry-After`` at most), ``/readyz`` naming what is
down, no acknowledged job lost (every 201 is listed afterwards and reaches the agent),
and recovery without restarting the server.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from printcloud.protocol.retry_hint import CLOSE_TRY_AGAIN_LATER, retry_after
from printcloud.protocol.session import CLOSE_KEY_REVOKED
from printcloud.server.accounts.permissions import Permission
from printcloud.server.db.database import Database
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers.accounts import PASSWORD, TestAccount, make_account
from tests.helpers.jobs import job, printer_id
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.private_services import (
    PrivatePostgres,
    PrivateRedis,
    private_directory,
    private_postgres,
    private_redis,
)
from tests.helpers.steady_load import SteadyLoad
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent

# Nothing but what a test calls runs the sweep: a job that reaches the agent got there
# by its wake-up (or by the sweep the bus runs when it is back), never by the timer.
NO_TIMED_SWEEP = 3600.0


async def _readiness(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await http.get("/readyz")
    return response.status_code, response.json()


async def _ready(http: httpx.AsyncClient) -> bool:
    return (await _readiness(http))[0] == 200


def _no_500(load: SteadyLoad) -> None:
    for answer in load.answers:
        assert answer.status in (201, 503), answer
        if answer.status == 503:
            assert answer.body["code"] == "ServiceUnavailable", answer
            assert answer.retry_after is not None, answer
            assert int(answer.retry_after) > 0, answer


async def _jobs_received(agent: WsAgent, wanted: set[str]) -> set[str]:
    """The ids of the jobs the agent is sent, until it has every one of ``wanted``."""
    received: set[str] = set()
    while not wanted <= received:
        message = await agent.recv(timeout=30)
        if message["type"] == "print_job":
            received.add(message["job"]["id"])
    return received


async def _listed(http: httpx.AsyncClient, account: TestAccount) -> set[str]:
    response = await http.get("/api/printjobs?limit=1000", auth=account.auth())
    assert response.status_code == 200, response.text
    return {found["id"] for found in response.json()}


# Redis


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_redis_killed_under_load_degrades_then_recovers_without_a_restart(
    redis: PrivateRedis, runtime_factory: Callable[..., Runtime]
) -> None:
    # The cluster shape: two instances on PostgreSQL, Redis between them; the agent on A,
    # the jobs posted on B, so that each wake-up crosses the bus.
    a, b = (runtime_factory(redis_url=redis.url, sweep_interval=NO_TIMED_SWEEP) for _ in "ab")
    async with serve(a) as on_a, serve(b) as on_b:
        owner = await make_account(a)
        agent = WsAgent(on_a.ws_url, owner.keys[Permission.FULL], features=["resume"])
        await agent.connect(printers=["HP"])
        async with (
            httpx.AsyncClient(base_url=on_a.url, timeout=30) as http_a,
            httpx.AsyncClient(base_url=on_b.url, timeout=30) as http_b,
        ):
            printer = await printer_id(http_b, owner, "HP")
            # A second computer, on a key of its own, which B revokes during the outage.
            made = await http_b.post(
                "/api/account/apikeys", auth=owner.auth(), json={"description": "reception"}
            )
            reception = WsAgent(on_a.ws_url, made.json()["key"], "Reception-PC")
            await reception.connect(printers=["Label printer"])
            with capture_logs() as logs:
                async with SteadyLoad(http_b, owner, printer) as load:
                    await load.more(10)
                    redis.kill()
                    await load.more(40)
                    status, body = await _readiness(http_b)
                    assert status == 503, body
                    assert body["checks"]["redis"] != "ok"
                    assert body["checks"]["database"] == "ok"
                    assert (await http_b.get("/healthz")).json() == {"status": "ok"}
                    printers = await http_b.get("/api/printers", auth=owner.auth())
                    assert printers.status_code == 200, printers.text
                    revoked = await http_b.delete(
                        f"/api/account/apikeys/{made.json()['id']}", auth=owner.auth()
                    )
                    assert revoked.status_code == 200, revoked.text

                    redis.start()
                    await eventually(lambda: _ready(http_a), timeout=30)
                    await eventually(lambda: _ready(http_b), timeout=30)
                    await load.more(10)

            # The limiter counted here meanwhile: no request failed for want of Redis.
            assert {answer.status for answer in load.answers} == {201}
            limiter = [e for e in logs if "rate limits" in str(e.get("meanwhile", ""))]
            assert [e["event"] for e in limiter] == ["dependency_unavailable"]
            back = [e for e in logs if e["event"] == "dependency_available_again"]
            assert {e["dependency"] for e in back} == {"redis"}

            # The jobs whose wake-up was lost reach the agent by the sweep the bus runs
            # when it is subscribed again; and the bus carries the next one.
            await _jobs_received(agent, load.accepted)
            assert load.accepted <= await _listed(http_b, owner)
            after = await http_b.post("/api/printjobs", auth=owner.auth(), json=job(printer))
            assert after.status_code == 201
            await _jobs_received(agent, {after.json()})
            # The revocation B could not announce: A found it by reading, once its bus was
            # back, and closed the key's connection.
            assert (await reception.closed())[0] == CLOSE_KEY_REVOKED
        await agent.close()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_a_server_started_while_redis_is_down_serves_and_picks_redis_up_later(
    runtime_factory: Callable[..., Runtime],
) -> None:
    with private_directory() as directory:
        redis = PrivateRedis(directory)  # its port is free: nothing listens there yet
        runtime = runtime_factory(redis_url=redis.url)
        async with serve(runtime) as live, httpx.AsyncClient(base_url=live.url) as http:
            owner = await make_account(runtime)
            login = await http.post(
                "/api/client/login", json={"email": owner.user.email, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            computer = await owner.add_computer(runtime)
            printers = await http.get("/api/printers", auth=owner.auth())
            assert printers.status_code == 200, printers.text
            [printer] = [p["id"] for p in printers.json() if p["computerId"] == computer.id]
            posted = await http.post("/api/printjobs", auth=owner.auth(), json=job(printer))
            assert posted.status_code == 201, posted.text
            status, body = await _readiness(http)
            assert (status, body["checks"]["redis"]) == (503, "unavailable")

            redis.start()
            try:
                await eventually(lambda: _ready(http), timeout=30)
            finally:
                redis.kill()


async def test_a_redis_that_stops_answering_does_not_hang_requests(
    redis: PrivateRedis, runtime_factory: Callable[..., Runtime]
) -> None:
    # SIGSTOP: the port still takes connections, and nothing ever answers on them.
    runtime = runtime_factory(redis_url=redis.url)
    async with serve(runtime) as live, httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        owner = await make_account(runtime)
        await owner.add_computer(runtime)
        redis.signal(signal.SIGSTOP)
        try:
            for _ in range(5):
                printers = await http.get("/api/printers", auth=owner.auth())
                assert printers.status_code == 200, printers.text
            status, body = await _readiness(http)
            assert (status, body["checks"]["redis"]) == (503, "timed out")
        finally:
            redis.signal(signal.SIGCONT)
        await eventually(lambda: _ready(http), timeout=30)


# PostgreSQL


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[tuple[PrivatePostgres, Runtime]]:
    """A private PostgreSQL, migrated, and a server's runtime on it."""
    with private_postgres() as server:
        database = Database.open(server.url())
        try:
            await database.migrate()
        finally:
            await database.close()
        settings = Settings(
            data_dir=tmp_path,
            database_url=server.url(),
            rate_limit="100000/s",
            sweep_interval=NO_TIMED_SWEEP,
        )
        yield server, Runtime.create(settings)


@pytest.mark.parametrize("outage", ["kill", "stop"])
async def test_postgres_down_under_load_answers_503_and_loses_no_acknowledged_job(
    postgres: tuple[PrivatePostgres, Runtime], outage: str
) -> None:
    server, runtime = postgres
    async with serve(runtime) as live, httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        owner = await make_account(runtime)
        key = owner.keys[Permission.FULL]
        agent = WsAgent(live.ws_url, key, features=["resume"])
        await agent.connect(printers=["HP"])
        printer = await printer_id(http, owner, "HP")

        async with SteadyLoad(http, owner, printer) as load:
            await load.more(20)
            server.kill() if outage == "kill" else server.stop()
            await load.more(20, status=503)
            await _during_the_outage(live, http, owner)
            server.start()
            await eventually(lambda: _ready(http), timeout=30)
            await load.more(20, status=201)
        _no_500(load)

        # Every job answered 201 is there, and reaches the agent: those whose wake-up
        # failed with the database away are sent by the next sweep.
        assert load.accepted <= await _listed(http, owner)
        await runtime.dispatcher.sweep()
        await _jobs_received(agent, load.accepted)
        await agent.close()


async def _during_the_outage(live: LiveServer, http: httpx.AsyncClient, owner: TestAccount) -> None:
    status, body = await _readiness(http)
    assert status == 503, body
    assert body["checks"]["database"] == "unavailable"
    assert body["code"] == "ServiceUnavailable"
    assert (await http.get("/healthz")).status_code == 200

    for method, path in [("GET", "/api/printers"), ("GET", "/api/printjobs")]:
        response = await http.request(method, path, auth=owner.auth())
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "ServiceUnavailable"
        assert int(response.headers["retry-after"]) > 0

    # An agent connecting now is told to come back (1013), with when.
    newcomer = WsAgent(live.ws_url, owner.keys[Permission.FULL], "Newcomer-PC")
    await newcomer.open()
    await newcomer.send(
        {
            "type": "auth",
            "apiKey": newcomer.api_key,
            "computerName": newcomer.name,
            "os": "Linux",
            "clientVersion": "1.0.0",
        }
    )
    code, reason = await newcomer.closed()
    assert code == CLOSE_TRY_AGAIN_LATER, (code, reason)
    assert retry_after(code, reason)
