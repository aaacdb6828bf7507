"""Webhook delivery to a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.jobs import submit
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.webhooks import WebhookReceiver, webhook_receiver


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with webhook_receiver() as hook:
        yield hook


FAST = {
    "allow_private_urls": True,
    "webhook_retry_scale": 0.01,
    "webhook_poll_interval": 0.05,
    "webhook_timeout": 1.0,
    "sweep_interval": 0.2,
}


@pytest.fixture
async def hooked(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    async with serve(runtime_factory(**FAST)) as server:
        yield server


async def until(check: Callable[[], Any], timeout: float = 10) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := check()):
            await asyncio.sleep(0.02)
    return result


async def setup(server: LiveServer, http: httpx.AsyncClient) -> tuple[TestAccount, str]:
    account = await make_account(server.runtime)
    # Offline, so that the sweep does not take it offline with an event of its own.
    await account.add_computer(server.runtime, "Office-PC", ("HP",), state="offline")
    printer = (await http.get("/api/printers", auth=account.auth())).json()[0]["id"]
    return account, printer


async def add_webhook(
    http: httpx.AsyncClient,
    account: TestAccount,
    url: str,
    events: list[str],
    secret: str | None = "my_secret_123",
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "events": events}
    if secret is not None:
        body["secret"] = secret
    response = await http.post("/api/webhooks", auth=account.auth(), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def client(hooked: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hooked.url, timeout=10) as http:
        yield http


async def test_delivery_carries_the_secret_header_and_a_verifiable_signature(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    await add_webhook(client, account, f"{receiver.url}/plain", ["all"])
    generated = await add_webhook(client, account, f"{receiver.url}/whsec", ["all"], None)

    job_id = await submit(client, account, printer)
    [plain] = await until(lambda: receiver.at("/plain"))
    [whsec] = await until(lambda: receiver.at("/whsec"))

    assert plain.json == {
        "type": "job.created",
        "jobId": job_id,
        "state": "pending",
        "printerId": printer,
        "timestamp": plain.json["timestamp"],
    }
    assert plain.headers["x-printcloud-webhook-secret"] == "my_secret_123"
    assert plain.headers["content-type"] == "application/json"
    # An independent verifier: the standardwebhooks package. A plain secret's key is its
    # UTF-8 bytes; a whsec_ secret's key is its base64-decoded bytes.
    Verifier(b"my_secret_123").verify(plain.body, plain.headers)
    Verifier(generated["secret"]).verify(whsec.body, whsec.headers)
    assert plain.headers["webhook-id"] != whsec.headers["webhook-id"]


async def test_a_failing_receiver_is_retried_with_the_same_message_id(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    webhook = await add_webhook(client, account, f"{receiver.url}/flaky", ["job.created"])
    receiver.script.extend([(500, 0.0, {}), (503, 0.0, {"Retry-After": "0"})])

    await submit(client, account, printer)
    attempts = await until(lambda: len(receiver.at("/flaky")) >= 3 and receiver.at("/flaky"))

    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1

    async def succeeded() -> list[dict[str, Any]]:
        found = (
            await client.get(f"/api/webhooks/{webhook['id']}/deliveries", auth=account.auth())
        ).json()
        return found if found and found[0]["status"] == "succeeded" else []

    async with asyncio.timeout(10):
        while not (deliveries := await succeeded()):
            await asyncio.sleep(0.05)
    [delivery] = deliveries
    assert delivery["id"] == attempts[0].headers["webhook-id"]
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["responseBody"] == "answer 500"


async def test_410_disables_the_webhook(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    webhook = await add_webhook(client, account, f"{receiver.url}/gone", ["all"])
    receiver.script.append((410, 0.0, {}))

    await submit(client, account, printer)
    await until(lambda: receiver.at("/gone"))

    async def disabled() -> dict[str, Any] | None:
        found = (await client.get(f"/api/webhooks/{webhook['id']}", auth=account.auth())).json()
        return found if not found["active"] else None

    async with asyncio.timeout(10):
        while not (state := await disabled()):
            await asyncio.sleep(0.05)
    assert "410" in state["disabledReason"]
    await submit(client, account, printer)
    await asyncio.sleep(0.5)
    assert len(receiver.at("/gone")) == 1  # nothing more while disabled

    enabled = await client.post(f"/api/webhooks/{webhook['id']}/enable", auth=account.auth())
    assert enabled.json()["active"] is True
    await submit(client, account, printer)
    await until(lambda: len(receiver.at("/gone")) == 2)


async def test_a_slow_receiver_times_out_and_is_retried(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    webhook = await add_webhook(client, account, f"{receiver.url}/slow", ["job.created"])
    receiver.script.append((200, 3.0, {}))  # longer than webhook_timeout (1 s)

    await submit(client, account, printer)
    await until(lambda: len(receiver.at("/slow")) >= 2)
    await asyncio.sleep(0.3)
    [delivery] = (
        await client.get(f"/api/webhooks/{webhook['id']}/deliveries", auth=account.auth())
    ).json()
    first = delivery["attempts"][0]
    assert first["statusCode"] is None
    assert first["error"] == "no answer within 1 s"


async def test_the_event_filter_and_the_order_of_one_jobs_events(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    await add_webhook(client, account, f"{receiver.url}/states", ["job.state"])
    await add_webhook(client, account, f"{receiver.url}/all", ["all"])

    job_id = await submit(client, account, printer)
    computer = (await client.get("/api/computers", auth=account.auth())).json()[0]["id"]
    await client.delete(f"/api/computers/{computer}", auth=account.auth())  # job -> error

    await until(lambda: len(receiver.at("/all")) >= 2 and receiver.at("/states"))
    await asyncio.sleep(0.3)
    assert [(r.json["type"], r.json["state"]) for r in receiver.at("/states")] == [
        ("job.state", "error")
    ]
    assert [(r.json["type"], r.json["jobId"]) for r in receiver.at("/all")] == [
        ("job.created", job_id),
        ("job.state", job_id),
    ]


async def test_replay_sends_the_event_again_as_a_new_message(
    hooked: LiveServer, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    account, printer = await setup(hooked, client)
    webhook = await add_webhook(client, account, f"{receiver.url}/replay", ["all"])
    await submit(client, account, printer)
    [first] = await until(lambda: receiver.at("/replay"))

    response = await client.post(
        f"/api/webhooks/{webhook['id']}/deliveries/{first.headers['webhook-id']}/replay",
        auth=account.auth(),
    )
    assert response.status_code == 201
    [again_id] = response.json()
    [_, again] = await until(lambda: len(receiver.at("/replay")) == 2 and receiver.at("/replay"))
    assert again.headers["webhook-id"] == again_id != first.headers["webhook-id"]
    assert again.body == first.body
    missing = await client.post(
        f"/api/webhooks/{webhook['id']}/deliveries/msg_unknown/replay", auth=account.auth()
    )
    assert missing.status_code == 404


async def test_deliveries_pending_when_the_server_stopped_are_sent_after_a_restart(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    stopped = runtime_factory(**FAST, run_webhook_worker=False)  # as if killed: no worker
    async with serve(stopped) as first, httpx.AsyncClient(base_url=first.url) as http:
        account, printer = await setup(first, http)
        await add_webhook(http, account, f"{receiver.url}/later", ["job.created"])
        jobs = [await submit(http, account, printer) for _ in range(3)]
        await asyncio.sleep(0.3)
        assert receiver.at("/later") == []

    async with serve(runtime_factory(**FAST)):
        delivered = await until(lambda: len(receiver.at("/later")) == 3 and receiver.at("/later"))
    assert [r.json["jobId"] for r in delivered] == jobs


async def test_two_instances_deliver_each_event_once(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    async with (
        serve(runtime_factory(**FAST)) as first,
        serve(runtime_factory(**FAST)),
        httpx.AsyncClient(base_url=first.url) as http,
    ):
        account, printer = await setup(first, http)
        await add_webhook(http, account, f"{receiver.url}/once", ["job.created"])
        for _ in range(30):
            await submit(http, account, printer)
        await until(lambda: len(receiver.at("/once")) >= 30)
        await asyncio.sleep(0.5)
    ids = [r.headers["webhook-id"] for r in receiver.at("/once")]
    assert len(ids) == 30
    assert len(set(ids)) == 30


async def test_a_webhook_failing_for_too_long_is_disabled_with_the_reason(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    failing = {**FAST, "webhook_disable_after": 0.3}
    async with (
        serve(runtime_factory(**failing)) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        account, printer = await setup(server, http)
        webhook = await add_webhook(http, account, f"{receiver.url}/down", ["job.created"])
        receiver.script.extend([(500, 0.0, {})] * 50)
        await submit(http, account, printer)

        async def disabled() -> dict[str, Any] | None:
            found = (await http.get(f"/api/webhooks/{webhook['id']}", auth=account.auth())).json()
            return found if not found["active"] else None

        async with asyncio.timeout(15):
            while not (state := await disabled()):
                await asyncio.sleep(0.05)
    assert state["disabledReason"].startswith("Every delivery failed since")
    assert "HTTP 500" in state["disabledReason"]


async def test_a_committed_event_is_sent_at_once_not_at_the_next_poll(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    # A poll this slow would miss the wait below: only the commit's wake-up can make it.
    async with (
        serve(runtime_factory(**{**FAST, "webhook_poll_interval": 600.0})) as server,
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
    ):
        account, printer = await setup(server, http)
        await add_webhook(http, account, f"{receiver.url}/prompt", ["job.created"])
        # The worker's first poll, at start-up, is behind it: it now sleeps for 600 s.
        job_id = await submit(http, account, printer)

        delivered = await until(lambda: receiver.at("/prompt"), timeout=5)

    assert delivered[0].json["jobId"] == job_id
