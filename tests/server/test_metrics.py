"""``/metrics``: what moves when a job lives its life, a handshake is refused, a webhook is
delivered or a rate limit refuses; who may read it; and that it is no part of the API.

Counters belong to the whole test process: each test compares two scrapes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from printcloud.server import metrics
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.availability import Availability
from printcloud.server.db.database import Database
from printcloud.server.db.models import Account, Printer
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from printcloud.server.webhooks.delivery import deliver_due
from tests.helpers.accounts import PASSWORD, TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import csrf_of
from tests.helpers.jobs import final_state, printer_id, submit
from tests.helpers.live_server import LiveServer, free_port
from tests.helpers.metrics import Scrape, scrape
from tests.helpers.waiting import eventually
from tests.helpers.webhooks import webhook_receiver
from tests.helpers.ws_agent import WsAgent

LIFECYCLE = ("pending", "sent", "printing", "completed")


async def test_a_jobs_whole_life_moves_its_counters_and_histograms(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    before = await scrape(http)
    agent = WsAgent(live.ws_url, owner.keys[Permission.FULL], "Metrics-PC")
    await agent.connect(printers=["HP"])
    printer = await printer_id(http, owner, "HP")
    job_id = await submit(http, owner, printer)
    message = await agent.recv()
    assert message["job"]["id"] == job_id
    await agent.report(job_id, "printing")
    await agent.report(job_id, "completed")
    assert (await final_state(http, owner, job_id))["state"] == "completed"
    during = await scrape(http)

    assert during.delta(before, "printcloud_jobs_created_total", content_type="pdf_base64") == 1
    assert during.delta(before, "printcloud_jobs_created_total", content_type="raw_base64") == 0
    for state in LIFECYCLE:
        assert during.delta(before, "printcloud_job_states_total", state=state) == 1, state
    for state in ("error", "expired"):
        assert during.delta(before, "printcloud_job_states_total", state=state) == 0
    # POST -> sent, once; POST -> completed, once, and no shorter than POST -> sent.
    assert during.delta(before, "printcloud_job_dispatch_seconds_count") == 1
    assert during.delta(before, "printcloud_job_dispatch_seconds_bucket", le="+Inf") == 1
    completed = {"state": "completed"}
    assert during.delta(before, "printcloud_job_completion_seconds_count", **completed) == 1
    assert during.delta(before, "printcloud_job_completion_seconds_count", state="error") == 0
    dispatch = during.delta(before, "printcloud_job_dispatch_seconds_sum")
    completion = during.delta(before, "printcloud_job_completion_seconds_sum", **completed)
    assert 0 < dispatch <= completion
    assert during.delta(before, "printcloud_agent_handshakes_accepted_total") == 1
    assert during.delta(before, "printcloud_agent_connections") == 1
    # Read from the database: this test's computer and printer are the only ones.
    assert during.value("printcloud_computers", state="online") == 1
    assert during.value("printcloud_printers", state="online") == 1

    await agent.close()

    async def offline() -> Scrape | None:
        found = await scrape(http)
        return found if found.value("printcloud_computers", state="offline") == 1 else None

    after = await eventually(offline)
    assert after.value("printcloud_computers", state="online") == 0
    assert after.value("printcloud_printers", state="offline") == 1
    assert after.delta(before, "printcloud_agent_connections") == 0


async def test_refused_handshakes_are_counted_by_reason(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    before = await scrape(http)
    intruder = WsAgent(live.ws_url, "pk_live_" + "x" * 36, "Intruder-PC")
    assert (await intruder.connect())["reason"] == "invalid_key"
    garbled = WsAgent(live.ws_url, "unused")
    await garbled.open()
    await garbled.send("this is not JSON")
    assert (await garbled.closed())[0] == 1007
    after = await scrape(http)
    assert (
        after.delta(before, "printcloud_agent_handshakes_refused_total", reason="invalid_key") == 1
    )
    assert after.delta(before, "printcloud_agent_handshakes_refused_total", reason="malformed") == 1
    assert after.delta(before, "printcloud_agent_handshakes_accepted_total") == 0


async def test_a_token_guards_the_metrics(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory(metrics_token="scrape-me-7f3a")
    async with client_for(create_app(runtime=runtime)) as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.json()["code"] == "Unauthorized"
        assert missing.headers["www-authenticate"].startswith("Bearer")
        for wrong in ("Bearer scrape-me-7f3b", "Bearer ", "Basic c2NyYXBlLW1lLTdmM2E6"):
            refused = await client.get("/metrics", headers={"Authorization": wrong})
            assert refused.status_code == 401, wrong
            assert set(refused.json()) == {"code", "message"}
        # With the token, from anywhere, through a proxy too.
        await scrape(client, "scrape-me-7f3a")
        proxied = await client.get(
            "/metrics",
            headers={"Authorization": "Bearer scrape-me-7f3a", "X-Forwarded-For": "203.0.113.9"},
        )
        assert proxied.status_code == 200


async def test_without_a_token_only_allowed_addresses_are_answered_and_never_via_a_proxy(
    runtime_factory: Callable[..., Runtime],
) -> None:
    loopback_only = create_app(runtime=runtime_factory())
    async with client_for(loopback_only) as local:  # httpx's ASGI client is 127.0.0.1
        await scrape(local)
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            proxied = await local.get("/metrics", headers={header: "203.0.113.9"})
            assert proxied.status_code == 403, header
            assert proxied.json()["code"] == "Forbidden"
        # A web page open on the server's host, cross-origin or DNS-rebound to loopback.
        for header, value in (
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "same-origin"),
        ):
            browser = await local.get("/metrics", headers={header: value})
            assert browser.status_code == 403, header
    async with client_for(loopback_only, client=("192.0.2.7", 5000)) as remote:
        assert (await remote.get("/metrics")).status_code == 403
    office = create_app(runtime=runtime_factory(metrics_allow_from=["192.0.2.0/24"]))
    async with client_for(office, client=("192.0.2.7", 5000)) as admin:
        await scrape(admin)
    async with client_for(office) as local:
        assert (await local.get("/metrics")).status_code == 403


async def test_metrics_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert "/metrics" not in paths
    assert all("metrics" not in path for path in paths)


async def test_webhook_deliveries_are_counted_by_outcome_with_their_latency(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(
        run_webhook_worker=False, allow_private_urls=True, webhook_timeout=1.0
    )
    account = await make_account(runtime)
    await account.add_computer(runtime, "Office-PC", ("HP",), state="offline")
    async with client_for(create_app(runtime=runtime)) as client, webhook_receiver() as hook:
        hook.status_by_path["/broken"] = 500
        for url in (f"{hook.url}/fine", f"{hook.url}/broken", f"http://127.0.0.1:{free_port()}/"):
            created = await client.post(
                "/api/webhooks", auth=account.auth(), json={"url": url, "events": ["job.created"]}
            )
            assert created.status_code == 201, created.text
        printer = (await client.get("/api/printers", auth=account.auth())).json()[0]["id"]
        before = await scrape(client)
        await submit(client, account, printer)
        assert await deliver_due(runtime.sessionmaker, runtime.settings) == 3
        after = await scrape(client)

    deliveries = "printcloud_webhook_deliveries_total"
    assert after.delta(before, deliveries, outcome="success") == 1
    assert after.delta(before, deliveries, outcome="server_error") == 1
    assert after.delta(before, deliveries, outcome="connection_refused") == 1
    assert after.delta(before, deliveries, outcome="client_error") == 0
    assert after.delta(before, "printcloud_webhook_delivery_seconds_count") == 3


async def test_rate_limit_refusals_are_counted_by_limit(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(
        rate_limit="1/h", login_failures_per_email="1/h", signups_per_address="1/h"
    )
    account = await make_account(runtime)
    computer = await account.add_computer(runtime, "Office-PC", ("HP",))
    async with runtime.sessionmaker() as session:
        printer = await session.scalar(select(Printer.id).where(Printer.computer_id == computer.id))
    async with client_for(create_app(runtime=runtime)) as client:
        before = await scrape(client)
        # The first request spends the hour's budget; the second job is refused by the
        # fast intake path (the key is known by then), the list by the route.
        first = await client.post(
            "/api/printjobs",
            auth=account.auth(),
            json={"printerId": printer, "contentType": "raw_base64", "content": "aGk="},
        )
        assert first.status_code == 201, first.text
        for _ in range(2):
            again = await client.post(
                "/api/printjobs",
                auth=account.auth(),
                json={"printerId": printer, "contentType": "raw_base64", "content": "aGk="},
            )
            assert again.status_code == 429
        assert (await client.get("/api/printers", auth=account.auth())).status_code == 429
        login = {"email": account.user.email, "password": PASSWORD + "?"}
        assert (await client.post("/api/client/login", json=login)).status_code == 401
        assert (await client.post("/api/client/login", json=login)).status_code == 429
        for expected in (400, 429):  # a weak password, then the address's budget spent
            page = await client.get("/signup")
            form = {
                "email": "new@example.com",
                "password": "short",
                "csrf_token": csrf_of(page.text),
            }
            assert (await client.post("/signup", data=form)).status_code == expected
        after = await scrape(client)

    assert after.delta(before, "printcloud_rate_limited_total", limit="api") == 3
    assert after.delta(before, "printcloud_rate_limited_total", limit="login_email") == 1
    assert after.delta(before, "printcloud_rate_limited_total", limit="signup") == 1
    assert after.delta(before, "printcloud_rate_limited_total", limit="login_address") == 0


def test_an_outage_counts_its_errors_once_and_its_gauge_follows() -> None:
    labels = {"dependency": "redis", "client": "test"}

    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    errors = sample("printcloud_dependency_errors_total")
    outages = sample("printcloud_dependency_outages_total")
    availability = Availability("redis", "nothing", client="test")
    assert sample("printcloud_dependency_available") == 1
    availability.failed(ConnectionRefusedError("refused"), now=0.0)
    availability.failed(ConnectionRefusedError("refused"), now=2.0)
    assert sample("printcloud_dependency_available") == 0
    assert sample("printcloud_dependency_errors_total") - errors == 2
    assert sample("printcloud_dependency_outages_total") - outages == 1
    availability.up()
    assert sample("printcloud_dependency_available") == 1


async def test_database_errors_are_counted_by_kind(database: Database) -> None:
    def integrity() -> float:
        found = REGISTRY.get_sample_value("printcloud_database_errors_total", {"kind": "integrity"})
        return found or 0.0

    before = integrity()
    row = {"id": "acc_metrics_duplicate", "created_at": utcnow()}
    try:
        async with database.sessionmaker() as session:
            await session.execute(insert(Account).values(**row))
            with pytest.raises(IntegrityError):
                await session.execute(insert(Account).values(**row))
    finally:
        async with database.sessionmaker() as session:
            await session.execute(delete(Account).where(Account.id == row["id"]))
            await session.commit()
    assert integrity() - before == 1


def test_a_dead_processes_live_gauges_are_forgotten_and_its_counts_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])  # a process id that runs no more
    dead.wait()
    files = {
        name: tmp_path / f"{name}_{dead.pid}.db"
        for name in ("counter", "histogram", "gauge_livesum", "gauge_livemin")
    }
    alive = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    for path in [*files.values(), alive]:
        path.write_bytes(b"")

    metrics.forget_dead_processes(tmp_path)

    assert {name for name, path in files.items() if path.exists()} == {"counter", "histogram"}
    assert alive.exists()


def test_a_metrics_dir_set_too_late_is_refused_at_start_up(tmp_path: Path) -> None:
    # This process chose no directory when prometheus-client was imported.
    with pytest.raises(RuntimeError, match="PRINTCLOUD_METRICS_DIR"):
        metrics.join_directory(tmp_path)
    metrics.join_directory(None)  # none asked for: nothing to check
