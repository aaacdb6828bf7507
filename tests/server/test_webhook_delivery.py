"""Webhook delivery to a real HTTP receiver on loopback.

Most tests turn the server's background worker off and call ``deliver_due`` as the
worker would, then assert what that call sent and recorded: how many deliveries, what
the receiver got, what the API shows. Retries are due at once (the schedule's delays
are scaled to nothing), so a test drives attempt after attempt without waiting for
one. The last tests run a live server with its worker, for what only the worker does:
deliver at start-up what an earlier server left, and wake up at a commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event
from standardwebhooks.webhooks import Webhook as Verifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from printcloud.server.app import create_app
from printcloud.server.db.models import Webhook
from printcloud.server.runtime import Runtime
from printcloud.server.webhooks import delivery
from printcloud.server.webhooks.delivery import deliver_due
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.jobs import submit
from tests.helpers.live_server import free_port, serve, serve_asgi
from tests.helpers.webhooks import WebhookReceiver, webhook_receiver

# The tests deliver: no background worker, and a retry is due as soon as it is scheduled.
DIRECT = {
    "run_webhook_worker": False,
    "allow_private_urls": True,
    "webhook_retry_scale": 1e-9,
    "webhook_timeout": 1.0,
}
# A live server's worker, quick.
LIVE = {
    "allow_private_urls": True,
    "webhook_retry_scale": 0.01,
    "webhook_poll_interval": 0.05,
    "webhook_timeout": 1.0,
    "sweep_interval": 0.2,
}


@pytest.fixture
def runtime(runtime_factory: Callable[..., Runtime]) -> Runtime:
    """The server's runtime without its delivery worker: the tests call ``deliver_due``."""
    return runtime_factory(**DIRECT)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with webhook_receiver() as hook:
        yield hook


async def deliver(runtime: Runtime) -> int:
    """One pass of the delivery worker: how many deliveries it sent."""
    return await deliver_due(runtime.sessionmaker, runtime.settings)


async def offline_printer(runtime: Runtime, http: httpx.AsyncClient, account: TestAccount) -> str:
    # Offline, so that no sweep takes it offline with an event of its own.
    await account.add_computer(runtime, "Office-PC", ("HP",), state="offline")
    return str((await http.get("/api/printers", auth=account.auth())).json()[0]["id"])


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


async def deliveries(
    http: httpx.AsyncClient, account: TestAccount, webhook: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await http.get(f"/api/webhooks/{webhook['id']}/deliveries", auth=account.auth())
    assert response.status_code == 200, response.text
    return list(response.json())


async def webhook_state(
    http: httpx.AsyncClient, account: TestAccount, webhook: dict[str, Any]
) -> dict[str, Any]:
    return dict((await http.get(f"/api/webhooks/{webhook['id']}", auth=account.auth())).json())


async def test_delivery_carries_the_secret_header_and_a_verifiable_signature(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    await add_webhook(client, account, f"{receiver.url}/plain", ["all"])
    generated = await add_webhook(client, account, f"{receiver.url}/whsec", ["all"], None)

    job_id = await submit(client, account, printer)
    assert await deliver(runtime) == 2
    [plain] = receiver.at("/plain")
    [whsec] = receiver.at("/whsec")

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
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/flaky", ["job.created"])
    receiver.script.extend([(500, 0.0, {}), (503, 0.0, {"Retry-After": "0"})])

    await submit(client, account, printer)
    # 500, 503, then 200; and then nothing is left to send.
    assert [await deliver(runtime) for _ in range(4)] == [1, 1, 1, 0]

    attempts = receiver.at("/flaky")
    assert len(attempts) == 3
    assert len({a.headers["webhook-id"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    [sent] = await deliveries(client, account, webhook)
    assert sent["status"] == "succeeded"
    assert sent["id"] == attempts[0].headers["webhook-id"]
    assert [a["statusCode"] for a in sent["attempts"]] == [500, 503, 200]
    assert sent["attempts"][0]["responseBody"] == "answer 500"


async def test_410_disables_the_webhook(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/gone", ["all"])
    receiver.script.append((410, 0.0, {}))

    await submit(client, account, printer)
    assert await deliver(runtime) == 1
    state = await webhook_state(client, account, webhook)
    assert state["active"] is False
    assert "410" in state["disabledReason"]

    await submit(client, account, printer)
    assert await deliver(runtime) == 0  # nothing more while disabled
    assert len(receiver.at("/gone")) == 1
    assert len(await deliveries(client, account, webhook)) == 1

    enabled = await client.post(f"/api/webhooks/{webhook['id']}/enable", auth=account.auth())
    assert enabled.json()["active"] is True
    await submit(client, account, printer)
    assert await deliver(runtime) == 1
    assert len(receiver.at("/gone")) == 2


async def test_a_slow_receiver_times_out_and_is_retried(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/slow", ["job.created"])
    # An answer after 3 s: longer than webhook_timeout (1 s), the limit under test.
    receiver.script.append((200, 3.0, {}))

    await submit(client, account, printer)
    assert await deliver(runtime) == 1  # given up after 1 s
    assert await deliver(runtime) == 1  # the retry, answered at once

    assert len(receiver.at("/slow")) == 2
    [sent] = await deliveries(client, account, webhook)
    first, second = sent["attempts"]
    assert first["statusCode"] is None
    assert first["error"] == "no answer within 1 s"
    assert second["statusCode"] == 200
    assert sent["status"] == "succeeded"


async def test_the_event_filter_and_the_order_of_one_jobs_events(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    await add_webhook(client, account, f"{receiver.url}/states", ["job.state"])
    await add_webhook(client, account, f"{receiver.url}/all", ["all"])

    job_id = await submit(client, account, printer)
    computer = (await client.get("/api/computers", auth=account.auth())).json()[0]["id"]
    await client.delete(f"/api/computers/{computer}", auth=account.auth())  # job -> error

    assert await deliver(runtime) == 3
    assert await deliver(runtime) == 0  # and nothing else was due
    assert [(r.json["type"], r.json["state"]) for r in receiver.at("/states")] == [
        ("job.state", "error")
    ]
    assert [(r.json["type"], r.json["jobId"]) for r in receiver.at("/all")] == [
        ("job.created", job_id),
        ("job.state", job_id),
    ]


async def test_replay_sends_the_event_again_as_a_new_message(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/replay", ["all"])
    await submit(client, account, printer)
    assert await deliver(runtime) == 1
    [first] = receiver.at("/replay")

    response = await client.post(
        f"/api/webhooks/{webhook['id']}/deliveries/{first.headers['webhook-id']}/replay",
        auth=account.auth(),
    )
    assert response.status_code == 201
    [again_id] = response.json()
    assert await deliver(runtime) == 1
    [_, again] = receiver.at("/replay")
    assert again.headers["webhook-id"] == again_id != first.headers["webhook-id"]
    assert again.body == first.body
    missing = await client.post(
        f"/api/webhooks/{webhook['id']}/deliveries/msg_unknown/replay", auth=account.auth()
    )
    assert missing.status_code == 404


async def test_two_instances_deliver_each_event_once(
    runtime: Runtime,
    runtime_factory: Callable[..., Runtime],
    client: httpx.AsyncClient,
    account: TestAccount,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = runtime_factory(**DIRECT)  # a second instance: its own engine and connections
    printer = await offline_printer(runtime, client, account)
    await add_webhook(client, account, f"{receiver.url}/once", ["job.created"])
    for _ in range(30):
        await submit(client, account, printer)
    # Small batches: the two instances claim over several rounds, at the same moments.
    monkeypatch.setattr(delivery, "BATCH", 4)

    sent = 0
    while rounds := await asyncio.gather(deliver(runtime), deliver(other)):
        if not any(rounds):
            break
        sent += sum(rounds)

    assert sent == 30
    ids = [r.headers["webhook-id"] for r in receiver.at("/once")]
    assert len(ids) == 30
    assert len(set(ids)) == 30


async def test_a_webhook_failing_for_too_long_is_disabled_with_the_reason(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    # Any time at all is too long here: the second failure, a moment after the first,
    # disables the webhook.
    runtime = runtime_factory(**DIRECT, webhook_disable_after=1e-6)
    account = await make_account(runtime)
    async with client_for(create_app(runtime=runtime)) as http:
        printer = await offline_printer(runtime, http, account)
        webhook = await add_webhook(http, account, f"{receiver.url}/down", ["job.created"])
        receiver.script.extend([(500, 0.0, {})] * 50)
        await submit(http, account, printer)

        assert await deliver(runtime) == 1
        still = await webhook_state(http, account, webhook)
        assert (still["active"], still["disabledReason"]) == (True, None)
        assert await deliver(runtime) == 1
        state = await webhook_state(http, account, webhook)
        assert await deliver(runtime) == 0  # disabled: its retry is not sent

    assert state["active"] is False
    assert state["disabledReason"].startswith("Every delivery failed since")
    assert "HTTP 500" in state["disabledReason"]
    assert len(receiver.at("/down")) == 2


async def test_a_batch_is_recorded_in_one_transaction_each_failure_as_its_own_attempt(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    fine = await add_webhook(client, account, f"{receiver.url}/fine", ["job.created"])
    # An answer of 500 from one receiver; nothing at all listens for the other.
    broken = await add_webhook(client, account, f"{receiver.url}/broken", ["job.created"])
    closed_url = f"http://127.0.0.1:{free_port()}/closed"
    closed = await add_webhook(client, account, closed_url, ["job.created"])
    receiver.status_by_path["/broken"] = 500
    job_id = await submit(client, account, printer)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "commit", committed)
    try:
        assert await deliver(runtime) == 3
    finally:
        event.remove(engine, "commit", committed)

    assert len(commits) == 2  # the claim, then the three outcomes
    [ok] = await deliveries(client, account, fine)
    [answered_500] = await deliveries(client, account, broken)
    [unreachable] = await deliveries(client, account, closed)
    assert ok["status"] == "succeeded"
    assert [a["statusCode"] for a in ok["attempts"]] == [200]
    assert answered_500["status"] == "pending"
    assert [a["statusCode"] for a in answered_500["attempts"]] == [500]
    assert unreachable["status"] == "pending"
    [attempt] = unreachable["attempts"]
    assert attempt["statusCode"] is None
    assert attempt["error"]  # why it failed, as the attempt's own
    async with runtime.sessionmaker() as session:
        assert (await session.get(Webhook, fine["id"])).failing_since is None  # type: ignore[union-attr]
        assert (await session.get(Webhook, closed["id"])).failing_since is not None  # type: ignore[union-attr]

    # The next pass sends only what failed; the success is not sent again.
    receiver.status_by_path.clear()
    assert await deliver(runtime) == 2
    assert [r.json["jobId"] for r in receiver.at("/broken")] == [job_id, job_id]
    assert len(receiver.at("/fine")) == 1


async def test_a_webhooks_later_deliveries_wait_for_the_next_pass_after_a_failure(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/first", ["job.created"])
    receiver.script.append((503, 0.0, {}))
    jobs = [await submit(client, account, printer) for _ in range(3)]

    assert await deliver(runtime) == 1  # the 503; the two after it were not sent
    untried = [d for d in await deliveries(client, account, webhook) if not d["attempts"]]
    assert [(d["status"], d["payload"]["jobId"]) for d in reversed(untried)] == [
        ("pending", jobs[1]),
        ("pending", jobs[2]),
    ]
    # The retry (due at once here) and the two, in event order.
    assert await deliver(runtime) == 3
    assert [r.json["jobId"] for r in receiver.at("/first")] == [jobs[0], *jobs]
    sent = list(reversed(await deliveries(client, account, webhook)))
    assert [[a["attempt"] for a in d["attempts"]] for d in sent] == [[1, 2], [1], [1]]


async def test_requests_to_one_receiver_are_bounded_and_each_webhook_goes_in_order(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(**DIRECT, webhook_concurrency=2)
    account = await make_account(runtime)
    arrived: list[tuple[str, str]] = []
    connections: set[int] = set()
    in_flight = 0
    most = 0
    gate = asyncio.Event()

    async def hold(request: Request) -> Response:
        # Each request is held until another one is in flight beside it: requests that
        # the sender did not bound would all be held here at once.
        nonlocal in_flight, most, gate
        assert request.client is not None
        connections.add(request.client.port)
        arrived.append((request.url.path, (await request.json())["jobId"]))
        in_flight += 1
        most = max(most, in_flight)
        waiting = gate
        if in_flight >= 2:
            gate.set()
            gate = asyncio.Event()
        await waiting.wait()
        in_flight -= 1
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{name}", hold, methods=["POST"])])
    async with (
        serve_asgi(uvicorn.Config(app, log_level="warning")) as url,
        client_for(create_app(runtime=runtime)) as http,
    ):
        printer = await offline_printer(runtime, http, account)
        for name in ("a", "b", "c", "d"):
            await add_webhook(http, account, f"{url}/{name}", ["job.created"])
        jobs = [await submit(http, account, printer) for _ in range(3)]
        assert await deliver(runtime) == 12

    assert most == 2
    assert len(connections) == 2  # kept alive: two connections carried all twelve
    for name in ("a", "b", "c", "d"):
        assert [job for path, job in arrived if path == f"/{name}"] == jobs


async def test_what_a_pass_did_not_start_in_its_time_is_released_unattempted(
    runtime: Runtime,
    client: httpx.AsyncClient,
    account: TestAccount,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/late", ["job.created"])
    jobs = [await submit(client, account, printer) for _ in range(2)]
    monkeypatch.setattr(delivery, "PASS_TIME", -1.0)  # over before it starts

    assert await deliver(runtime) == 0
    left = await deliveries(client, account, webhook)
    assert [(d["status"], d["attempts"]) for d in left] == [("pending", [])] * 2
    monkeypatch.setattr(delivery, "PASS_TIME", 60.0)
    assert await deliver(runtime) == 2  # due at once, not at the end of a lease
    assert [r.json["jobId"] for r in receiver.at("/late")] == jobs
    sent = await deliveries(client, account, webhook)
    assert [[a["attempt"] for a in d["attempts"]] for d in sent] == [[1], [1]]


async def test_a_stopping_worker_records_what_it_sent_and_releases_the_rest(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount
) -> None:
    arrived: list[str] = []
    second = asyncio.Event()
    never = asyncio.Event()

    async def answer_once(request: Request) -> Response:
        arrived.append((await request.json())["jobId"])
        if len(arrived) == 2:
            second.set()
            await never.wait()  # held until the worker gives up on it
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{name}", answer_once, methods=["POST"])])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        printer = await offline_printer(runtime, client, account)
        webhook = await add_webhook(client, account, f"{url}/stop", ["job.created"])
        jobs = [await submit(client, account, printer) for _ in range(3)]
        worker = delivery.DeliveryWorker(runtime.settings, runtime.sessionmaker)
        worker.start()
        try:
            async with asyncio.timeout(10):
                await second.wait()  # the first answered, the second in flight
        finally:
            await worker.stop()
            never.set()

    first, held, third = reversed(await deliveries(client, account, webhook))
    assert (first["status"], [a["statusCode"] for a in first["attempts"]]) == ("succeeded", [204])
    # Neither was answered: both due again at once, with no attempt counted.
    assert [(d["status"], d["attempts"]) for d in (held, third)] == [("pending", [])] * 2
    assert arrived == jobs[:2]


# What only the worker of a running server does. These wait for what a background loop
# sends, with a deadline; none waits to see that nothing is sent.


async def test_deliveries_pending_when_the_server_stopped_are_sent_after_a_restart(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    stopped = runtime_factory(**LIVE, run_webhook_worker=False)  # as if killed: no worker
    async with serve(stopped) as first, httpx.AsyncClient(base_url=first.url) as http:
        account = await make_account(first.runtime)
        printer = await offline_printer(first.runtime, http, account)
        webhook = await add_webhook(http, account, f"{receiver.url}/later", ["job.created"])
        jobs = [await submit(http, account, printer) for _ in range(3)]
        left = await deliveries(http, account, webhook)
    assert [(d["status"], d["attempts"]) for d in left] == [("pending", [])] * 3
    assert receiver.received == []

    async with serve(runtime_factory(**LIVE)):
        delivered = await receiver.wait_for("/later", 3)
    assert [r.json["jobId"] for r in delivered] == jobs


async def test_a_committed_event_is_sent_at_once_not_at_the_next_poll(
    runtime_factory: Callable[..., Runtime], receiver: WebhookReceiver
) -> None:
    # A poll this slow would miss the wait below: only the commit's wake-up can make it.
    async with (
        serve(runtime_factory(**{**LIVE, "webhook_poll_interval": 600.0})) as server,
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
    ):
        account = await make_account(server.runtime)
        printer = await offline_printer(server.runtime, http, account)
        await add_webhook(http, account, f"{receiver.url}/prompt", ["job.created"])
        # The worker's first poll, at start-up, is behind it: it now sleeps for 600 s.
        job_id = await submit(http, account, printer)

        delivered = await receiver.wait_for("/prompt", 1, timeout=5)

    assert delivered[0].json["jobId"] == job_id


async def test_a_secret_that_cannot_travel_in_a_header_fails_its_attempts_and_is_retried(
    runtime: Runtime, client: httpx.AsyncClient, account: TestAccount, receiver: WebhookReceiver
) -> None:
    """The API refuses such a secret now; one stored before that still must not make the
    worker throw and leave its deliveries ``pending`` for ever."""
    printer = await offline_printer(runtime, client, account)
    webhook = await add_webhook(client, account, f"{receiver.url}/hook", ["job.created"])
    async with runtime.sessionmaker() as session:
        stored = await session.get(Webhook, webhook["id"])
        assert stored is not None
        stored.secret = "line\r\nX-Injected: 1"  # what an earlier version took
        await session.commit()

    await submit(client, account, printer)
    assert [await deliver(runtime) for _ in range(2)] == [1, 1]  # failed, retried, failed

    assert receiver.at("/hook") == []
    [attempted] = await deliveries(client, account, webhook)
    assert attempted["status"] == "pending"  # on the retry schedule, not stuck
    assert len(attempted["attempts"]) == 2
    assert all(a["statusCode"] is None and a["error"] for a in attempted["attempts"])
