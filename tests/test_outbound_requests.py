"""``safe_request`` against real listeners on loopback; nothing else is ever reached.

Non-loopback targets (169.254.169.254, 10.0.0.1, public addresses a fake resolver gives)
are only ever tried with a ``MockTransport``, so a bug cannot send a packet off this host.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from printcloud import outbound
from printcloud.outbound import SafeResponse, UnsafeTarget, safe_request
from tests.helpers.live_server import free_port, serve_asgi

LARGE = 300_000


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    port: int
    seen: list[Seen]


@dataclass
class Canary:
    """Counts the connections made to its port, on 127.0.0.1 and (when available) ::1."""

    port: int = 0
    hosts: list[str] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)  # whoever connected
    probes: set[tuple[str, int]] = field(default_factory=set)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def connections(self) -> int:
        """The connections made so far, without waiting for any that might still come.

        A probe of each listener, made now, is accepted after every connection made
        before it: once the probes are counted, so is everything earlier.
        """
        for host in self.hosts:
            await self._probe(host)
        return len([peer for peer in self.peers if peer not in self.probes])

    async def _probe(self, host: str) -> None:
        _, writer = await asyncio.open_connection(host, self.port)
        probe = writer.get_extra_info("sockname")[:2]
        self.probes.add(probe)
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: probe in self.peers)
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    seen: list[Seen] = []

    async def record(request: Request) -> Response:
        body = await request.body()
        seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        if request.url.path == "/redirect":
            return Response(status_code=302, headers={"Location": request.query_params["to"]})
        if request.url.path == "/large":
            return Response(b"x" * LARGE, media_type="application/octet-stream")
        return Response(b"received", media_type="text/plain")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield Receiver(url, int(url.rsplit(":", 1)[1]), seen)


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    canary = Canary()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with canary.arrived:
            canary.peers.append(writer.get_extra_info("peername")[:2])
            canary.arrived.notify_all()
        writer.close()

    servers = [await asyncio.start_server(accepted, "127.0.0.1", 0)]
    canary.port = servers[0].sockets[0].getsockname()[1]
    canary.hosts.append("127.0.0.1")
    # Without IPv6 loopback here, [::1] URLs cannot connect anyway: the v4 listener suffices.
    with contextlib.suppress(OSError):
        servers.append(await asyncio.start_server(accepted, "::1", canary.port))
        canary.hosts.append("::1")
    try:
        yield canary
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def tripwire() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport in place of the network, and the requests that reached it."""
    reached: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        reached.append(request)
        return httpx.Response(200)

    return httpx.MockTransport(handle), reached


def fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> None:
    """Make the running loop resolve ``names`` to the given addresses; others as usual."""
    loop = asyncio.get_running_loop()
    real: Callable[..., Any] = loop.getaddrinfo

    async def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host not in names:
            return await real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in names[host]
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


async def private_post(url: str, **kwargs: Any) -> SafeResponse:
    return await safe_request("POST", url, timeout=5, allow_private=True, **kwargs)


# (a) allowed: what is sent arrives whole, and only what was asked for is done.


async def test_a_post_arrives_intact(receiver: Receiver) -> None:
    body = b'{"event": "job.done", "id": "j_1"}'
    headers = {"Content-Type": "application/json", "X-PrintCloud-Signature": "t=1,v1=ab"}
    response = await private_post(f"{receiver.url}/hook?x=1", content=body, headers=headers)
    assert response.status_code == 200
    assert response.body == b"received"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.elapsed > 0
    [seen] = receiver.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook", body)
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-printcloud-signature"] == "t=1,v1=ab"
    assert seen.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert seen.headers["content-length"] == str(len(body))


async def test_a_name_is_connected_to_by_its_checked_address_with_its_own_host_header(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ".test" names never resolve for real: the request can only arrive if safe_request
    # connects to the address it resolved itself, and does not hand the name to httpx.
    fake_dns(monkeypatch, {"hooks.printcloud.test": ["127.0.0.1"]})
    response = await private_post(f"http://hooks.printcloud.test:{receiver.port}/hook")
    assert response.status_code == 200
    [seen] = receiver.seen
    assert seen.headers["host"] == f"hooks.printcloud.test:{receiver.port}"


async def test_the_response_body_is_cut_at_the_limit(receiver: Receiver) -> None:
    response = await private_post(f"{receiver.url}/large", max_response_bytes=1000)
    assert response.status_code == 200
    assert response.body == b"x" * 1000
    assert response.headers["content-length"] == str(LARGE)


async def test_a_redirect_is_returned_not_followed(receiver: Receiver, canary: Canary) -> None:
    elsewhere = f"http://127.0.0.1:{canary.port}/stolen"
    response = await private_post(f"{receiver.url}/redirect?to={elsewhere}")
    assert response.status_code == 302
    assert response.headers["location"] == elsewhere
    assert len(receiver.seen) == 1
    assert await canary.connections() == 0


async def test_proxies_from_the_environment_are_not_used(
    receiver: Receiver, canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{canary.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    response = await private_post(f"{receiver.url}/hook")
    assert response.status_code == 200
    assert len(receiver.seen) == 1
    assert await canary.connections() == 0


async def test_https_sends_the_name_for_the_certificate_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"printer.example.com": ["93.184.216.34"]})
    transport, reached = tripwire()
    await safe_request(
        "POST",
        "https://printer.example.com/hook?x=1",
        timeout=5,
        allow_private=False,
        transport=transport,
    )
    [request] = reached
    assert str(request.url) == "https://93.184.216.34/hook?x=1"
    assert request.headers["host"] == "printer.example.com"
    assert request.extensions["sni_hostname"] == "printer.example.com"


async def test_a_refused_connection_and_a_silent_server_raise_httpx_errors() -> None:
    with pytest.raises(httpx.ConnectError):
        await private_post(f"http://127.0.0.1:{free_port()}/")

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(httpx.TimeoutException):
            await safe_request("GET", f"http://127.0.0.1:{port}/", timeout=0.3, allow_private=True)
    finally:
        server.close()
        await server.wait_closed()


# (b) refused: before any connection is made.


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://0x7f000001:{port}/",
        "http://2130706433:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://127.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "gopher://127.0.0.1:{port}/",
        "file:///etc/passwd",
    ],
)
async def test_loopback_and_other_schemes_are_refused_without_connecting(
    template: str, canary: Canary
) -> None:
    with pytest.raises(UnsafeTarget):
        await safe_request(
            "POST", template.format(port=canary.port), timeout=2, allow_private=False
        )
    assert await canary.connections() == 0


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "https://10.0.0.1/"]
)
async def test_addresses_off_this_host_are_refused_before_any_connection(url: str) -> None:
    transport, reached = tripwire()
    with pytest.raises(UnsafeTarget, match="not a public address"):
        await safe_request("GET", url, timeout=2, allow_private=False, transport=transport)
    assert reached == []


async def test_the_scheme_is_checked_even_when_private_addresses_are_allowed() -> None:
    transport, reached = tripwire()
    with pytest.raises(UnsafeTarget, match="http:// or https://"):
        await safe_request(
            "GET", "file:///etc/passwd", timeout=2, allow_private=True, transport=transport
        )
    assert reached == []


# (c) names are checked against what they resolve to.


async def test_a_name_resolving_to_loopback_is_refused_after_resolution(
    canary: Canary, monkeypatch: pytest.MonkeyPatch
) -> None:
    # url_problem already refuses "localhost" by name; with that check out of the way,
    # the real resolver's answer (127.0.0.1 or ::1) must be what refuses it.
    monkeypatch.setattr(outbound, "url_problem", lambda url, *, allow_private: None)
    with pytest.raises(UnsafeTarget, match=r"localhost resolves to .*not a public address"):
        await safe_request(
            "POST", f"http://localhost:{canary.port}/", timeout=2, allow_private=False
        )
    assert await canary.connections() == 0


async def test_a_name_is_refused_if_any_of_its_addresses_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"mixed.printcloud.test": ["93.184.216.34", "10.0.0.1"]})
    transport, reached = tripwire()
    with pytest.raises(UnsafeTarget, match=r"resolves to 10\.0\.0\.1"):
        await safe_request(
            "GET",
            "https://mixed.printcloud.test/",
            timeout=2,
            allow_private=False,
            transport=transport,
        )
    assert reached == []


async def test_a_name_that_does_not_resolve_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {})
    loop = asyncio.get_running_loop()

    async def no_such_name(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", no_such_name)
    transport, reached = tripwire()
    with pytest.raises(httpx.ConnectError, match=r"cannot resolve nowhere\.printcloud\.test"):
        await safe_request(
            "GET",
            "https://nowhere.printcloud.test/",
            timeout=2,
            allow_private=False,
            transport=transport,
        )
    assert reached == []


async def test_a_client_pool_uses_a_connection_again_only_for_the_same_host_name() -> None:
    seen: list[tuple[str, int]] = []

    async def record(request: Request) -> Response:
        assert request.client is not None
        seen.append((request.headers["host"], request.client.port))
        return Response(b"ok")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    clients = outbound.ClientPool(timeout=5)
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        port = int(url.rsplit(":", 1)[1])
        try:
            for _ in range(3):
                await safe_request(
                    "POST", f"{url}/hook", timeout=5, allow_private=True, clients=clients
                )
            await safe_request(
                "POST",
                f"http://localhost:{port}/hook",
                timeout=5,
                allow_private=True,
                clients=clients,
            )
        finally:
            await clients.aclose()

    by_ip, by_name = seen[:3], seen[3]
    assert len({client_port for _, client_port in by_ip}) == 1  # one connection, kept
    # The same address under another name: a connection of its own.
    assert by_name[0] == f"localhost:{port}"
    assert by_name[1] != by_ip[0][1]


# (d) SafeClient: the same policy, on kept-alive connections (the webhook worker's).


@pytest.fixture
async def safe_client() -> AsyncIterator[outbound.SafeClient]:
    client = outbound.SafeClient(allow_private=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def strict_client() -> AsyncIterator[outbound.SafeClient]:
    client = outbound.SafeClient(allow_private=False)
    try:
        yield client
    finally:
        await client.aclose()


async def test_safe_client_posts_intact_and_cuts_the_answer_at_the_limit(
    receiver: Receiver, safe_client: outbound.SafeClient
) -> None:
    body = b'{"event": "job.done", "id": "j_1"}'
    response = await safe_client.request(
        "POST",
        f"{receiver.url}/hook?x=1",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert (response.status_code, response.body) == (200, b"received")
    large = await safe_client.request(
        "GET", f"{receiver.url}/large", timeout=5, max_response_bytes=1000
    )
    assert large.body == b"x" * 1000
    # The connection left with an unread answer is not used again: the next request works.
    again = await safe_client.request("POST", f"{receiver.url}/after", timeout=5)
    assert again.body == b"received"
    first = receiver.seen[0]
    assert (first.method, first.path, first.body) == ("POST", "/hook", body)
    assert first.headers["host"] == f"127.0.0.1:{receiver.port}"
    assert first.headers["content-length"] == str(len(body))
    assert first.headers["accept-encoding"] == "identity"
    assert [s.path for s in receiver.seen] == ["/hook", "/large", "/after"]


async def test_safe_client_connects_to_the_address_its_resolver_gave_with_the_name_as_host(
    receiver: Receiver, safe_client: outbound.SafeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"hooks.printcloud.test": ["127.0.0.1"]})
    response = await safe_client.request(
        "POST", f"http://hooks.printcloud.test:{receiver.port}/hook", timeout=5
    )
    assert response.status_code == 200
    assert receiver.seen[0].headers["host"] == f"hooks.printcloud.test:{receiver.port}"


async def test_safe_client_returns_a_redirect_and_ignores_proxies(
    receiver: Receiver,
    canary: Canary,
    safe_client: outbound.SafeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{canary.port}")
    elsewhere = f"http://127.0.0.1:{canary.port}/stolen"
    response = await safe_client.request(
        "POST", f"{receiver.url}/redirect?to={elsewhere}", timeout=5
    )
    assert response.status_code == 302
    assert response.headers["location"] == elsewhere
    assert len(receiver.seen) == 1
    assert await canary.connections() == 0


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://0x7f000001:{port}/",
        "http://2130706433:{port}/",
        "http://127.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "gopher://127.0.0.1:{port}/",
    ],
)
async def test_safe_client_refuses_loopback_without_connecting(
    template: str, canary: Canary, strict_client: outbound.SafeClient
) -> None:
    with pytest.raises(UnsafeTarget):
        await strict_client.request("POST", template.format(port=canary.port), timeout=2)
    assert await canary.connections() == 0


def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 stands for a public address, so that nothing leaves this host; every
    other address keeps its own answer (127.0.0.2 is not public)."""
    real = outbound.is_public_address
    pretend = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(
        outbound, "is_public_address", lambda address: address == pretend or real(address)
    )


async def test_safe_client_checks_each_address_of_a_name_before_connecting(
    canary: Canary, strict_client: outbound.SafeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_is_public(monkeypatch)
    fake_dns(
        monkeypatch,
        {
            "public.printcloud.test": ["127.0.0.1"],
            "mixed.printcloud.test": ["127.0.0.1", "127.0.0.2"],
        },
    )
    with pytest.raises(UnsafeTarget, match=r"mixed\.printcloud\.test resolves to 127\.0\.0\.2"):
        await strict_client.request(
            "POST", f"http://mixed.printcloud.test:{canary.port}/", timeout=2
        )
    assert await canary.connections() == 0
    # The same client, a name whose every address passes: it connects (the canary
    # closes without answering).
    with pytest.raises(outbound.RequestFailed):
        await strict_client.request(
            "POST", f"http://public.printcloud.test:{canary.port}/", timeout=2
        )
    assert await canary.connections() == 1


async def test_safe_client_failures_are_its_own_errors(
    safe_client: outbound.SafeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(outbound.RequestFailed):
        await safe_client.request("POST", f"http://127.0.0.1:{free_port()}/", timeout=2)

    async def no_such_name(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_name)
    with pytest.raises(outbound.RequestFailed, match=r"cannot resolve nowhere\.printcloud\.test"):
        await safe_client.request("POST", "http://nowhere.printcloud.test/", timeout=2)

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(outbound.RequestTimedOut):
            await safe_client.request("POST", f"http://127.0.0.1:{port}/", timeout=0.3)
    finally:
        server.close()
        await server.wait_closed()


async def test_safe_client_uses_a_connection_again_only_for_the_same_host_name(
    safe_client: outbound.SafeClient,
) -> None:
    seen: list[tuple[str, int]] = []

    async def record(request: Request) -> Response:
        assert request.client is not None
        seen.append((request.headers["host"], request.client.port))
        return Response(b"ok")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        port = int(url.rsplit(":", 1)[1])
        for _ in range(3):
            await safe_client.request("POST", f"{url}/hook", timeout=5)
        await safe_client.request("POST", f"http://localhost:{port}/hook", timeout=5)

    by_ip, by_name = seen[:3], seen[3]
    assert len({client_port for _, client_port in by_ip}) == 1  # one connection, kept
    assert by_name[0] == f"localhost:{port}"
    assert by_name[1] != by_ip[0][1]
