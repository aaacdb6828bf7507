"""Both clients run every endpoint: one scenario, once with ``Client``, once with
``AsyncClient``, against the real app in process."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, assert_type

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from printcloud import APIConnectionError, AsyncClient, AuthenticationError, Client
from printcloud.client import ClientLogin, Job
from printcloud.protocol.content import ContentType
from printcloud.protocol.events import EventType
from printcloud.protocol.job_states import JobState
from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount

BASE = "http://testserver"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ZPL = b"^XA^FO50,50^ADN,36,20^FDShipping^FS^XZ"

# Every route the SDK has a method for, as the app names them.
ENDPOINTS = {
    ("GET", "/api/printers"),
    ("GET", "/api/printers/{ids}"),
    ("GET", "/api/computers"),
    ("DELETE", "/api/computers/{ids}"),
    ("POST", "/api/printjobs"),
    ("GET", "/api/printjobs"),
    ("GET", "/api/printjobs/{ids}"),
    ("GET", "/api/printjobs/{job_id}/states"),
    ("DELETE", "/api/printjobs/{ids}"),
    ("POST", "/api/webhooks"),
    ("GET", "/api/webhooks"),
    ("GET", "/api/webhooks/{webhook_id}"),
    ("DELETE", "/api/webhooks/{webhook_id}"),
    ("GET", "/api/webhooks/{webhook_id}/deliveries"),
    ("POST", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"),
    ("POST", "/api/webhooks/{webhook_id}/enable"),
    ("POST", "/api/account/apikeys"),
    ("GET", "/api/account/apikeys"),
    ("DELETE", "/api/account/apikeys/{key_id}"),
    ("POST", "/api/client/login"),
}


class InProcess(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The app in process for either client. A sync client's request is handled on the
    test's event loop (where the app's database lives) while the client waits in a
    thread, as a program's would; the routes the app matched are kept."""

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.routes: set[tuple[str, str]] = set()
        self._loop = loop

        async def recording(scope: Scope, receive: Receive, send: Send) -> None:
            await app(scope, receive, send)
            if "route" in scope:
                self.routes.add((scope["method"], scope["route"].path))

        self._app = httpx.ASGITransport(app=recording)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._app.handle_async_request(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(self._read(request), self._loop).result()

    async def _read(self, request: httpx.Request) -> httpx.Response:
        response = await self._app.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
        )


class Either:
    """A ``Client`` or an ``AsyncClient``, driven the same way by a test:
    ``await sdk.run(lambda client: client.jobs.get(job_id))``."""

    def __init__(
        self,
        mode: str,
        transport: InProcess | httpx.MockTransport,
        api_key: str = "pk_live_x",
        **options: Any,
    ) -> None:
        self.mode = mode
        self.transport = transport
        self.options = {**options, "transport": transport}
        self.client: Client | AsyncClient = (
            Client(api_key, BASE, **self.options)
            if mode == "sync"
            else AsyncClient(api_key, BASE, **self.options)
        )

    async def run(self, use: Callable[[Any], Any]) -> Any:
        if isinstance(self.client, Client):
            return await asyncio.to_thread(use, self.client)
        return await use(self.client)

    async def login(self, email: str, password: str, **named: Any) -> ClientLogin:
        options = {**self.options, **named}
        if self.mode == "sync":
            return await asyncio.to_thread(Client.login, email, password, BASE, **options)
        return await AsyncClient.login(email, password, BASE, **options)

    async def close(self) -> None:
        if isinstance(self.client, Client):
            self.client.close()
        else:
            await self.client.aclose()


MODES = ["sync", "async"]


@pytest.fixture(params=MODES)
async def sdk(
    app: FastAPI, account: TestAccount, request: pytest.FixtureRequest
) -> AsyncIterator[Either]:
    transport = InProcess(app, asyncio.get_running_loop())
    either = Either(request.param, transport, account.keys[Permission.FULL])
    yield either
    await either.close()


async def test_every_endpoint_runs_on_both_clients(
    sdk: Either, runtime: Runtime, account: TestAccount, tmp_path: Path
) -> None:
    computer = await account.add_computer(runtime, "Office-PC", ("HP", "Zebra"))
    printers = await sdk.run(lambda c: c.printers.list())
    assert sorted(p.name for p in printers) == ["HP", "Zebra"]
    hp = next(p for p in printers if p.name == "HP")
    assert [p.name for p in await sdk.run(lambda c: c.printers.get([hp.id]))] == ["HP"]
    [listed] = await sdk.run(lambda c: c.computers.list())
    assert (listed.id, len(listed.printers)) == (computer.id, 2)

    hook = await sdk.run(
        lambda c: c.webhooks.create(url="https://example.com/hook", events=[EventType.JOB_CREATED])
    )
    assert hook.secret is not None
    assert [w.id for w in await sdk.run(lambda c: c.webhooks.list())] == [hook.id]

    raw = base64.b64encode(ZPL).decode()
    created = await sdk.run(
        lambda c: c.jobs.create(
            printer_id=hp.id,
            content_type=ContentType.RAW_BASE64,
            content=raw,
            title="Label",
            options={"copies": 2},
            expire_after=3600,
            idempotency_key="order-1",
        )
    )
    path = tmp_path / "invoice.pdf"
    path.write_bytes(PDF)
    from_path = await sdk.run(lambda c: c.print_pdf(hp.id, path, title="Invoice", qty=2))
    from_url = await sdk.run(lambda c: c.print_pdf(hp.id, "https://example.com/a.pdf"))
    from_bytes = await sdk.run(lambda c: c.print_raw(hp.id, ZPL, copies=3))
    ids = [created, from_path, from_url, from_bytes]
    assert [j.id for j in await sdk.run(lambda c: c.jobs.list(dir="asc"))] == ids
    assert [j.id for j in await sdk.run(lambda c: c.jobs.list(limit=1, after=from_url))] == [
        from_path
    ]
    job = await sdk.run(lambda c: c.jobs.get(created))
    assert (job.title, job.state, job.options["copies"]) == ("Label", JobState.PENDING, 2)
    assert job.expires_at is not None
    invoice = await sdk.run(lambda c: c.jobs.get(from_path))
    assert (invoice.title, invoice.qty, invoice.content_type) == (
        "Invoice",
        2,
        ContentType.PDF_BASE64,
    )
    assert (await sdk.run(lambda c: c.jobs.get(from_url))).content_type == ContentType.PDF_URI
    label = await sdk.run(lambda c: c.jobs.get(from_bytes))
    assert (label.content_type, label.options["copies"]) == (ContentType.RAW_BASE64, 3)
    [state] = await sdk.run(lambda c: c.jobs.states(created))
    assert state.state == JobState.PENDING

    deliveries = await sdk.run(lambda c: c.webhooks.deliveries(hook.id, limit=10))
    assert len(deliveries) == len(ids)
    assert {d.event_type for d in deliveries} == {EventType.JOB_CREATED}
    again = await sdk.run(lambda c: c.webhooks.replay(hook.id, deliveries[0].id))
    assert again not in {d.id for d in deliveries}
    assert (await sdk.run(lambda c: c.webhooks.get(hook.id))).active
    assert (await sdk.run(lambda c: c.webhooks.enable(hook.id))).active
    assert await sdk.run(lambda c: c.webhooks.delete(hook.id)) == [hook.id]

    key = await sdk.run(lambda c: c.api_keys.create("CI", "read_only"))
    assert key.key.startswith("pk_live_")
    assert key.id in {k.id for k in await sdk.run(lambda c: c.api_keys.list())}
    assert await sdk.run(lambda c: c.api_keys.revoke(key.id)) == [key.id]

    assert await sdk.run(lambda c: c.computers.delete([computer.id])) == [computer.id]
    done = await sdk.run(lambda c: c.wait(from_path, timeout=5, poll_interval=0.05))
    assert done.state == JobState.ERROR
    assert sorted(await sdk.run(lambda c: c.jobs.delete(ids))) == sorted(ids)

    login = await sdk.login(account.user.email, PASSWORD)
    assert login.api_key.startswith("pk_live_")
    assert (login.user.id, login.user.email) == (account.user.id, account.user.email)

    assert isinstance(sdk.transport, InProcess)
    assert sdk.transport.routes == ENDPOINTS


async def test_wait_gives_up_with_a_timeout_error_on_both_clients(
    sdk: Either, runtime: Runtime, account: TestAccount, tmp_path: Path
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    [printer] = await sdk.run(lambda c: c.printers.list())
    job_id = await sdk.run(lambda c: c.print_raw(printer.id, ZPL))
    with pytest.raises(TimeoutError, match=job_id):
        await sdk.run(lambda c: c.wait(job_id, timeout=0.1, poll_interval=0.05))
    with pytest.raises(FileNotFoundError):
        await sdk.run(lambda c: c.print_pdf(printer.id, tmp_path / "missing.pdf"))


@pytest.mark.parametrize("mode", MODES)
async def test_login_sends_no_api_key_and_a_wrong_password_is_refused_on_both_clients(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRINTCLOUD_API_KEY", "pk_live_from_the_environment")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if json.loads(request.content)["password"] != PASSWORD:
            return httpx.Response(401, json={"code": "Unauthorized", "message": "Invalid"})
        user = {"id": "usr_1", "firstName": "John", "lastName": "Doe", "email": "j@example.com"}
        return httpx.Response(200, json={"success": True, "apiKey": "pk_live_new", "user": user})

    sdk = Either(mode, httpx.MockTransport(handler))
    login = await sdk.login("j@example.com", PASSWORD)
    assert (login.api_key, login.user.first_name) == ("pk_live_new", "John")
    with pytest.raises(AuthenticationError):
        await sdk.login("j@example.com", "not it")
    assert [request.url.path for request in sent] == ["/api/client/login"] * 2
    assert not any("Authorization" in request.headers for request in sent)
    await sdk.close()


@pytest.mark.parametrize("mode", MODES)
async def test_a_job_is_retried_with_its_idempotency_key_on_both_clients(mode: str) -> None:
    received: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        received.append(request)
        if len(received) == 1:
            raise httpx.ReadError("connection reset", request=request)
        if len(received) == 2:
            return httpx.Response(503, json={"code": "Unavailable", "message": "restarting"})
        return httpx.Response(201, json="pj_abc")

    sdk = Either(mode, httpx.MockTransport(flaky), retry_backoff=0)
    assert await sdk.run(lambda c: c.print_pdf("prn_x", PDF)) == "pj_abc"
    assert len({request.headers["Idempotency-Key"] for request in received}) == 1
    assert len(received) == 3

    def refuse(request: httpx.Request) -> httpx.Response:
        received.append(request)
        raise httpx.ConnectError("refused", request=request)

    received.clear()
    refused = Either(mode, httpx.MockTransport(refuse), retry_backoff=0)
    with pytest.raises(APIConnectionError):
        await refused.run(lambda c: c.webhooks.create(url="https://e.com/h", events=["all"]))
    assert len(received) == 3  # a POST is retried when it never reached the server
    await sdk.close()
    await refused.close()


async def types_as_a_user_sees_them(client: Client, async_client: AsyncClient) -> None:
    """Not run: mypy checks it (``mypy tests/client``)."""
    assert_type(client.jobs.get("pj_x"), Job)
    assert_type(client.wait("pj_x"), Job)
    assert_type(client.print_pdf("prn_x", b"%PDF-"), str)
    assert_type(Client.login("e", "p", BASE), ClientLogin)
    listing: Coroutine[Any, Any, list[Job]] = async_client.jobs.list()
    assert_type(await listing, list[Job])
    assert_type(await async_client.wait("pj_x"), Job)
    assert_type(await AsyncClient.login("e", "p", BASE), ClientLogin)


async def test_a_login_key_is_named_login_from_the_sdk_and_shows_its_last_use(
    sdk: Either, account: TestAccount
) -> None:
    default = await sdk.login(account.user.email, PASSWORD)
    named = await sdk.login(account.user.email, PASSWORD, key_description="Nightly export")
    listed = {k.prefix: k for k in await sdk.run(lambda c: c.api_keys.list())}

    def listed_key(api_key: str) -> Any:
        return next(k for prefix, k in listed.items() if api_key.startswith(prefix))

    assert listed_key(default.api_key).description == "Login from the SDK"
    assert listed_key(named.api_key).description == "Nightly export"
    assert listed_key(default.api_key).last_used_at is None
    # The fixture's own key has just listed the keys.
    assert listed_key(account.keys[Permission.FULL]).last_used_at is not None
