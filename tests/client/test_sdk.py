"""The SDK against the real app in process (ASGI), a live server, and injected failures."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from printcloud import (
    APIConnectionError,
    APIError,
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    PermissionDeniedError,
    PrintCloudError,
    RateLimitError,
    ValidationError,
)
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.documents import PDF, ZPL
from tests.helpers.live_server import serve

BASE = "http://testserver"


def sdk_for(app: FastAPI, key: str, max_retries: int = 2) -> AsyncClient:
    return AsyncClient(key, BASE, transport=httpx.ASGITransport(app=app), max_retries=max_retries)


@pytest.fixture
async def sdk(app: FastAPI, account: TestAccount) -> AsyncIterator[AsyncClient]:
    async with sdk_for(app, account.keys[Permission.FULL]) as client:
        yield client


@pytest.fixture
async def printer(runtime: Runtime, account: TestAccount, sdk: AsyncClient) -> str:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    return (await sdk.printers.list())[0].id


def mocked(
    handler: Callable[[httpx.Request], httpx.Response],
    max_retries: int = 2,
    retry_backoff: float = 0.0,
) -> AsyncClient:
    """A client whose server is ``handler``: only for failures the real app cannot show."""
    return AsyncClient(
        "pk_live_x",
        BASE,
        transport=httpx.MockTransport(handler),
        max_retries=max_retries,
        retry_backoff=retry_backoff,
    )


def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


# -- the API, method by method ---------------------------------------------------------


async def test_printers_and_computers_are_listed_and_a_computer_deleted(
    runtime: Runtime, account: TestAccount, sdk: AsyncClient
) -> None:
    computer = await account.add_computer(runtime, "Office-PC", ("HP", "Zebra"))
    printers = await sdk.printers.list()
    assert sorted(p.name for p in printers) == ["HP", "Zebra"]
    assert all(p.computer_id == computer.id for p in printers)
    assert printers[0].capabilities["media"] == ["A4", "Letter"]

    [listed] = await sdk.computers.list()
    assert (listed.id, listed.name, listed.state) == (computer.id, "Office-PC", "online")
    assert len(listed.printers) == 2

    assert await sdk.computers.delete([computer.id]) == [computer.id]
    assert await sdk.computers.list() == []
    assert await sdk.printers.list() == []


async def test_jobs_are_created_listed_paged_read_and_deleted(
    sdk: AsyncClient, printer: str
) -> None:
    pdf = base64.b64encode(PDF).decode()
    ids = [
        await sdk.jobs.create(
            printer_id=printer,
            content_type="pdf_base64",
            content=pdf,
            title=f"Invoice {n}",
            qty=2,
            options={"copies": 3, "duplex": "long-edge"},
            expire_after=3600,
        )
        for n in range(3)
    ]
    assert all(job_id.startswith("pj_") for job_id in ids)

    newest_first = await sdk.jobs.list()
    assert [job.id for job in newest_first] == ids[::-1]
    oldest_first = await sdk.jobs.list(dir="asc")
    assert [job.id for job in oldest_first] == ids
    assert [job.id for job in await sdk.jobs.list(limit=1, dir="asc", after=ids[0])] == [ids[1]]

    job = await sdk.jobs.get(ids[0])
    assert (job.title, job.state, job.content_type, job.qty) == (
        "Invoice 0",
        "pending",
        "pdf_base64",
        2,
    )
    assert job.printer.id == printer
    assert job.printer.name == "HP"
    assert job.options["copies"] == 3
    assert job.expires_at is not None

    [state] = await sdk.jobs.states(ids[0])
    assert state.state == "pending"

    assert sorted(await sdk.jobs.delete(ids[:2])) == sorted(ids[:2])
    assert await sdk.jobs.delete(ids[2]) == [ids[2]]
    with pytest.raises(NotFoundError):
        await sdk.jobs.get(ids[0])


async def test_print_helpers_send_bytes_files_and_urls(
    sdk: AsyncClient, printer: str, tmp_path: Path
) -> None:
    from_bytes = await sdk.print_pdf(printer, PDF, title="From bytes", qty=2, copies=2)
    path = tmp_path / "invoice.pdf"
    path.write_bytes(PDF)
    from_path = await sdk.print_pdf(printer, path, color=False)
    from_str_path = await sdk.print_pdf(printer, str(path))
    from_url = await sdk.print_pdf(printer, "https://example.com/invoice.pdf")
    raw = await sdk.print_raw(printer, ZPL, title="Label")

    job = await sdk.jobs.get(from_bytes)
    assert (job.title, job.qty, job.options["copies"]) == ("From bytes", 2, 2)
    assert job.content_type == "pdf_base64"
    assert (await sdk.jobs.get(from_path)).options["color"] is False
    assert (await sdk.jobs.get(from_str_path)).content_type == "pdf_base64"
    assert (await sdk.jobs.get(from_url)).content_type == "pdf_uri"
    raw_job = await sdk.jobs.get(raw)
    assert (raw_job.content_type, raw_job.title) == ("raw_base64", "Label")

    with pytest.raises(FileNotFoundError):
        await sdk.print_pdf(printer, tmp_path / "missing.pdf")


async def test_webhooks_are_created_listed_and_deleted(sdk: AsyncClient) -> None:
    created = await sdk.webhooks.create(url="https://example.com/hook", events=["all"])
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    assert created.active
    own = await sdk.webhooks.create(
        url="https://example.com/other", events=["job.state"], secret="s3cret"
    )
    assert own.secret is None

    listed = await sdk.webhooks.list()
    assert {w.id for w in listed} == {created.id, own.id}
    assert {w.url for w in listed} == {"https://example.com/hook", "https://example.com/other"}

    assert await sdk.webhooks.delete(created.id) == [created.id]
    assert [w.id for w in await sdk.webhooks.list()] == [own.id]


async def test_api_keys_are_created_listed_and_revoked(app: FastAPI, sdk: AsyncClient) -> None:
    created = await sdk.api_keys.create(description="CI", permission="read_only")
    assert created.key.startswith("pk_live_")
    assert (created.description, created.permission) == ("CI", "read_only")

    listed = {key.id: key for key in await sdk.api_keys.list()}
    assert created.key.startswith(listed[created.id].prefix)
    assert listed[created.id].revoked_at is None

    async with sdk_for(app, created.key) as reader:
        assert await reader.printers.list() == []
        assert await sdk.api_keys.revoke(created.id) == [created.id]
        with pytest.raises(AuthenticationError):
            await reader.printers.list()
    assert {key.id: key for key in await sdk.api_keys.list()}[created.id].revoked_at is not None


# -- errors ----------------------------------------------------------------------------


async def test_a_wrong_key_is_an_authentication_error(app: FastAPI) -> None:
    async with sdk_for(app, "pk_live_wrong") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.printers.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "Unauthorized"
    assert caught.value.message


async def test_a_read_only_key_cannot_print(
    app: FastAPI, account: TestAccount, printer: str
) -> None:
    async with sdk_for(app, account.keys[Permission.READ_ONLY]) as reader:
        with pytest.raises(PermissionDeniedError) as caught:
            await reader.print_pdf(printer, PDF)
    assert (caught.value.status_code, caught.value.code) == (403, "Forbidden")


async def test_an_unknown_job_is_not_found(sdk: AsyncClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await sdk.jobs.get("pj_doesnotexist")
    assert (caught.value.status_code, caught.value.code) == (404, "NotFound")


async def test_a_bad_option_is_a_validation_error_naming_the_field(
    sdk: AsyncClient, printer: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await sdk.print_pdf(printer, PDF, copies=0)
    assert (caught.value.status_code, caught.value.code) == (400, "BadRequest")
    assert "copies" in caught.value.message
    with pytest.raises(ValidationError):
        await sdk.print_pdf(printer, PDF, staple=True)


async def test_too_many_requests_is_a_rate_limit_error_with_retry_after(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(rate_limit="1/minute")
    account = await make_account(runtime)
    app = create_app(runtime=runtime)
    async with sdk_for(app, account.keys[Permission.FULL], max_retries=0) as client:
        await client.printers.list()
        with pytest.raises(RateLimitError) as caught:
            await client.printers.list()
    assert (caught.value.status_code, caught.value.code) == (429, "TooManyRequests")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


async def test_a_server_error_is_an_api_error() -> None:
    async with mocked(lambda _: error(500, "InternalServerError", "boom"), max_retries=0) as c:
        with pytest.raises(APIError) as caught:
            await c.printers.list()
    assert (caught.value.status_code, caught.value.code, caught.value.message) == (
        500,
        "InternalServerError",
        "boom",
    )
    assert not isinstance(caught.value, APIConnectionError)


async def test_an_unreachable_server_is_a_connection_error_after_the_retries() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    async with mocked(refuse, max_retries=2, retry_backoff=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.printers.list()
    assert isinstance(caught.value, APIError)
    assert isinstance(caught.value, PrintCloudError)
    assert len(calls) == 3


def test_missing_settings_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTCLOUD_API_KEY", raising=False)
    monkeypatch.delenv("PRINTCLOUD_URL", raising=False)
    with pytest.raises(PrintCloudError, match="PRINTCLOUD_API_KEY"):
        Client(base_url=BASE)
    with pytest.raises(PrintCloudError, match="PRINTCLOUD_URL"):
        Client("pk_live_x")
    monkeypatch.setenv("PRINTCLOUD_API_KEY", "pk_live_env")
    monkeypatch.setenv("PRINTCLOUD_URL", BASE)
    with Client() as client:
        assert client.base_url == BASE


# -- retries ---------------------------------------------------------------------------


def sequence(
    *responses: httpx.Response,
) -> tuple[list[httpx.Request], Callable[..., httpx.Response]]:
    """A handler answering ``responses`` in turn, and the requests it received."""
    received: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return responses[len(received) - 1]

    return received, handler


async def test_a_rate_limited_request_is_retried_and_succeeds() -> None:
    received, handler = sequence(
        error(429, "TooManyRequests", "slow down", **{"Retry-After": "0"}),
        httpx.Response(200, json=[]),
    )
    async with mocked(handler, retry_backoff=0) as client:
        assert await client.printers.list() == []
    assert len(received) == 2


async def test_a_server_error_on_get_is_retried() -> None:
    received, handler = sequence(
        error(503, "Unavailable", "restarting"), httpx.Response(200, json=[])
    )
    async with mocked(handler, retry_backoff=0) as client:
        assert await client.webhooks.list() == []
    assert len(received) == 2


async def test_a_post_without_idempotency_key_is_not_retried() -> None:
    received, handler = sequence(
        error(500, "InternalServerError", "boom"), httpx.Response(201, json={})
    )
    async with mocked(handler, retry_backoff=0) as client:
        with pytest.raises(APIError):
            await client.webhooks.create(url="https://example.com/hook", events=["all"])
    assert len(received) == 1


async def test_a_job_post_is_retried_with_the_same_idempotency_key() -> None:
    received, handler = sequence(
        error(500, "InternalServerError", "boom"), httpx.Response(201, json="pj_abc")
    )
    async with mocked(handler, retry_backoff=0) as client:
        assert await client.print_pdf("prn_x", PDF) == "pj_abc"
    assert len(received) == 2
    keys = {request.headers["Idempotency-Key"] for request in received}
    assert len(keys) == 1
    assert keys.pop()
    body = json.loads(received[0].content)
    assert body["contentType"] == "pdf_base64"
    assert base64.b64decode(body["content"]) == PDF


async def test_a_given_idempotency_key_is_sent() -> None:
    received, handler = sequence(httpx.Response(201, json="pj_abc"))
    async with mocked(handler) as client:
        await client.jobs.create(
            printer_id="prn_x",
            content_type="pdf_uri",
            content="https://e.com/a.pdf",
            idempotency_key="order-42",
        )
    assert received[0].headers["Idempotency-Key"] == "order-42"


# -- wait ------------------------------------------------------------------------------


async def test_wait_times_out_on_a_pending_job_and_returns_a_finished_one(
    runtime: Runtime, account: TestAccount, sdk: AsyncClient
) -> None:
    computer = await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await sdk.printers.list())[0].id
    job_id = await sdk.print_pdf(printer, PDF)
    with pytest.raises(TimeoutError, match=job_id):
        await sdk.wait(job_id, timeout=0.2, poll_interval=0.05)

    await sdk.computers.delete(computer.id)
    job = await sdk.wait(job_id, timeout=5, poll_interval=0.05)
    assert job.state == "error"
    assert job.printer.name == "HP"
    assert [s.state for s in await sdk.jobs.states(job_id)] == ["pending", "error"]


# -- the sync client -------------------------------------------------------------------


async def test_the_sync_client_against_a_live_server(
    runtime: Runtime, account: TestAccount, tmp_path: Path
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    path = tmp_path / "invoice.pdf"
    path.write_bytes(PDF)

    def scenario(url: str) -> None:
        with Client(account.keys[Permission.FULL], url) as client:
            [printer] = client.printers.list()
            job_id = client.print_pdf(printer.id, path, title="Sync", copies=2)
            job = client.jobs.get(job_id)
            assert (job.title, job.options["copies"]) == ("Sync", 2)
            assert [j.id for j in client.jobs.list(limit=10)] == [job_id]
            assert client.jobs.states(job_id)[0].state == "pending"
            with pytest.raises(TimeoutError):
                client.wait(job_id, timeout=0.1, poll_interval=0.05)
            [computer] = client.computers.list()
            assert client.computers.delete(computer.id) == [computer.id]
            assert client.wait(job_id, timeout=5, poll_interval=0.05).state == "error"
            assert client.jobs.delete([job_id]) == [job_id]
            with pytest.raises(NotFoundError):
                client.jobs.get(job_id)
            hook = client.webhooks.create(url="https://example.com/hook", events=["all"])
            assert [w.id for w in client.webhooks.list()] == [hook.id]
            assert client.webhooks.delete(hook.id) == [hook.id]
            key = client.api_keys.create("sync", "print_only")
            assert key.id in {k.id for k in client.api_keys.list()}
            assert client.api_keys.revoke(key.id) == [key.id]

    async with serve(runtime) as server:
        await asyncio.to_thread(scenario, server.url)


def test_the_sync_client_retries_and_maps_errors() -> None:
    received, handler = sequence(
        error(429, "TooManyRequests", "slow down", **{"Retry-After": "0"}),
        error(502, "BadGateway", "proxy"),
        error(404, "NotFound", "no such job"),
    )
    transport = httpx.MockTransport(handler)
    client = Client("pk_live_x", BASE, transport=transport, retry_backoff=0)
    with client, pytest.raises(NotFoundError, match="no such job"):
        client.jobs.get("pj_x")
    assert len(received) == 3
    assert received[0].headers["Authorization"].startswith("Basic ")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    refusing = Client("pk_live_x", BASE, transport=httpx.MockTransport(refuse), max_retries=0)
    with refusing, pytest.raises(APIConnectionError):
        refusing.printers.list()


async def test_the_same_idempotency_key_gives_the_same_job_from_the_server(
    sdk: AsyncClient, printer: str
) -> None:
    first = await sdk.jobs.create(
        printer_id=printer,
        content_type="raw_base64",
        content="XlhBXlha",
        idempotency_key="order-77",
    )
    again = await sdk.jobs.create(
        printer_id=printer,
        content_type="raw_base64",
        content="XlhBXlha",
        idempotency_key="order-77",
    )
    assert first == again
    assert [j.id for j in await sdk.jobs.list()] == [first]
    with pytest.raises(ValidationError) as caught:  # the key again, for another job
        await sdk.jobs.create(
            printer_id=printer,
            content_type="raw_base64",
            content="XlhBXlhB",
            idempotency_key="order-77",
        )
    assert (caught.value.status_code, caught.value.code) == (422, "UnprocessableContent")


async def test_printers_by_id_and_a_webhooks_deliveries_replay_and_enable(
    runtime: Runtime, account: TestAccount, sdk: AsyncClient, printer: str
) -> None:
    [found] = await sdk.printers.get([printer])
    assert found.id == printer
    with pytest.raises(NotFoundError):
        await sdk.printers.get("prn_missing")

    webhook = await sdk.webhooks.create(url="https://example.com/hook", events=["all"])
    job_id = await sdk.jobs.create(
        printer_id=printer, content_type="raw_base64", content="XlhBXlha"
    )
    [delivery] = await sdk.webhooks.deliveries(webhook.id)
    assert delivery.event_type == "job.created"
    assert delivery.payload["jobId"] == job_id
    assert delivery.status == "pending"  # no worker runs in these tests
    again = await sdk.webhooks.replay(webhook.id, delivery.id)
    assert again != delivery.id
    assert len(await sdk.webhooks.deliveries(webhook.id)) == 2

    assert (await sdk.webhooks.get(webhook.id)).active is True
    assert (await sdk.webhooks.enable(webhook.id)).active is True
