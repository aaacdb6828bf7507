"""Which URLs PrintCloud lets a customer point it at, and how it calls them: one policy
for the server (webhooks, documents it downloads) and the agent (documents it fetches
inside an office network).

``url_problem`` is the check made when a URL is accepted (a webhook, a document URI):
http or https only, a host, and no loopback, private, link-local, CGNAT,
multicast, unspecified or otherwise non-global address literal, nor
``localhost``, unless private URLs are allowed (``PRINTCLOUD_ALLOW_PRIVATE_URLS`` on
the server, ``allow_private_urls`` in the agent's configuration).

``download`` fetches a document with it (the server's for a client that does not
fetch, the agent's own), following redirects, each checked again.

``safe_request`` is the one way either makes a request to such a URL: it checks
the URL again, resolves the name, refuses it if any address is not public, and then
connects to the address it checked (not the name again, so a DNS answer that changes
between the check and the connection cannot redirect it to an internal address).

``SafeClient`` is the same policy for a server that calls the same receivers again
and again (webhooks), on aiohttp's kept-alive connections: each new connection is
made to the addresses its resolver checked, and a connection is only used again for
the host name it was opened for. It is the server's (aiohttp comes with the
``server`` extra); the agent never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import certifi
import httpx

if TYPE_CHECKING:
    import aiohttp
    import aiohttp.abc
    import yarl

MAX_URL_LENGTH = 2048

# C resolvers (inet_aton, and so getaddrinfo and every HTTP client built on it) read
# "127.1", "0177.0.0.1", "2130706433" and "0x7f000001" as 127.0.0.1, while
# ``ipaddress`` rejects them. A host made only of such parts is read the way C reads it.
_IPV4_PART = r"(?:0[xX][0-9a-fA-F]*|[0-9]+)"
_LEGACY_IPV4 = re.compile(rf"{_IPV4_PART}(?:\.{_IPV4_PART}){{0,3}}")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:  # not an address after all (a part out of range): a name
            return None
    return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public_address(address.ipv4_mapped)
    # ``is_global`` is False for loopback, private, link-local, CGNAT (100.64/10),
    # unspecified and reserved ranges; multicast can be "global", so it is checked too.
    return address.is_global and not address.is_multicast


def url_problem(url: str, *, allow_private: bool) -> str | None:  # noqa: PLR0911 - one check per reason
    """Why ``url`` is refused, or None when it is acceptable."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(ch.isspace() for ch in url):
        return "the URL must not contain spaces"
    if any(ch < " " or ch == "\x7f" for ch in url):
        return "the URL must not contain control characters"
    if "\\" in url:
        # Python reads the host of "http://127.0.0.1:80\\@example.com/" as example.com,
        # browsers and other WHATWG parsers (a customer's own agent) as 127.0.0.1.
        return "the URL must not contain a backslash (write / in a path, %5C in a query)"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"the URL is malformed ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    # A fully qualified name may end with a dot ("localhost.", "127.0.0.1."): same host.
    bare = host.removesuffix(".")
    address = _address(bare)
    if address is not None and not is_public_address(address):
        shown = host if str(address) == bare else f"{host} ({address})"
        return f"the address {shown} is not a public address"
    if bare == "localhost" or bare.endswith(".localhost"):
        return "the host localhost is not a public address"
    return None


class UnsafeTarget(Exception):
    """The URL, or an address its host resolves to, is one the server must not call."""


@dataclass(frozen=True)
class SafeResponse:
    status_code: int
    headers: dict[str, str]  # names in lower case
    body: bytes  # at most ``max_response_bytes``, as sent (not decompressed)
    elapsed: float  # seconds, resolution included


async def safe_request(
    method: str,
    url: str,
    *,
    content: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float,  # noqa: ASYNC109 - the contract's budget: httpx's per step, and the whole call
    allow_private: bool,
    max_response_bytes: int = 65536,
    transport: httpx.AsyncBaseTransport | None = None,
    clients: ClientPool | None = None,
) -> SafeResponse:
    """Make one request to ``url``, refusing (``UnsafeTarget``) anything not public.

    Redirects are not followed: a 3xx is returned as it is. ``timeout`` bounds each
    step and the whole call; a timeout or a connection failure (resolution included)
    raises httpx's own exception. Nothing is logged here. With ``clients``, a
    connection to the same host is kept and used again (see ``ClientPool``).
    """
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        raise UnsafeTarget(problem)
    try:
        # httpx's reading of the URL is the one that counts, since it makes the request;
        # the addresses checked below are those of the host httpx sees.
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeTarget(f"the URL is malformed ({exc})") from exc
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            addresses = await _resolve(target)
            if not allow_private:
                for address in addresses:
                    if not is_public_address(address):
                        raise UnsafeTarget(
                            f"{target.host} resolves to {address}, which is not a public address"
                        )
            request = functools.partial(
                _request_checked,
                method=method,
                target=target,
                addresses=addresses,
                content=content,
                headers=headers,
                max_response_bytes=max_response_bytes,
                started=started,
            )
            if clients is not None:
                return await request(clients.client_for(target))
            async with _client(timeout, transport) as client:
                return await request(client)
    except TimeoutError:
        # httpx's per-step timeouts raise its own exceptions; this is the overall bound,
        # against a server that drips its answer a byte at a time.
        raise httpx.TimeoutException(f"no answer from {target.host} within {timeout} s") from None


def _client(timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        trust_env=False,  # an environment proxy would make the connection, not us
        verify=_tls_context(),
        follow_redirects=False,
    )


class ClientPool:
    """Keep-alive HTTP clients, one per host name (scheme, name, port).

    A webhook receiver is called again and again: a new connection (and TLS
    handshake) per call cost more than the call. Requests go to the checked
    address, so a client pools its connections by address; one client per name
    makes sure a connection (and the certificate checked on it) is only used
    again for the name it was opened for. The least recently used clients are
    closed past ``size`` hosts.
    """

    def __init__(self, timeout: float, size: int = 256) -> None:
        self._timeout = timeout
        self._size = size
        self._clients: OrderedDict[tuple[str, bytes, int | None], httpx.AsyncClient] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def client_for(self, target: httpx.URL) -> httpx.AsyncClient:
        key = (target.scheme, target.raw_host, target.port)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _client(self._timeout)
            while len(self._clients) > self._size:
                _, evicted = self._clients.popitem(last=False)
                task = asyncio.create_task(evicted.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self._clients.move_to_end(key)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        await asyncio.gather(*(c.aclose() for c in clients), *self._closing)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building a context (loading the CA bundle) costs milliseconds: once per process,
    # not once per delivery. Certificates and host names are checked as by default.
    return ssl.create_default_context(cafile=certifi.where())


async def _resolve(target: httpx.URL) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    host = target.raw_host.decode("ascii")  # IDNA-encoded; an IPv6 literal without brackets
    port = target.port or (443 if target.scheme == "https" else 80)
    with contextlib.suppress(ValueError):
        # An address already: no resolver call (it runs in a thread) to learn it.
        return [ipaddress.ip_address(host)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {target.host}: {exc}") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise httpx.ConnectError(f"{target.host} has no address")
    return addresses


async def _request_checked(
    client: httpx.AsyncClient,
    *,
    method: str,
    target: httpx.URL,
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
    content: bytes,
    headers: Mapping[str, str] | None,
    max_response_bytes: int,
    started: float,
) -> SafeResponse:
    request_headers = httpx.Headers(headers)
    # The request goes to the checked address; the server still sees the name it was
    # given (the Host header, and the TLS server name, which certificates are checked against).
    request_headers["Host"] = target.netloc.decode("ascii")
    # A compressed answer would be inflated in memory before it could be cut short.
    request_headers.setdefault("Accept-Encoding", "identity")
    extensions: dict[str, Any] = {}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.raw_host.decode("ascii")
    last_error: httpx.ConnectError | None = None
    # Several addresses (IPv6 and IPv4, say), all checked: the next is tried only when
    # the connection itself failed, so a request is never sent twice.
    for address in addresses:
        try:
            async with client.stream(
                method,
                target.copy_with(host=str(address)),
                content=content,
                headers=request_headers,
                extensions=extensions,
            ) as response:
                return SafeResponse(
                    status_code=response.status_code,
                    headers={name.lower(): value for name, value in response.headers.items()},
                    body=await _read_at_most(response, max_response_bytes),
                    elapsed=time.monotonic() - started,
                )
        except httpx.ConnectError as exc:
            last_error = exc
    assert last_error is not None  # ``addresses`` is never empty
    raise last_error


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of the body, as sent; the rest is never read."""
    if response.is_stream_consumed:
        # A transport that answered with a body already in memory (httpx.MockTransport).
        return response.content[:limit]
    body = bytearray()
    if limit > 0:
        async for chunk in response.aiter_raw():
            body += chunk[: limit - len(body)]
            if len(body) >= limit:
                break
    return bytes(body)


class RequestFailed(Exception):
    """``SafeClient``: no answer came (the connection failed or broke; the message says
    how)."""


class RequestTimedOut(RequestFailed):
    """``SafeClient``: no whole answer within the time allowed."""


class SafeClient:
    """Requests under the address policy on kept-alive connections (aiohttp), for a
    server that calls the same receivers again and again: webhooks.

    httpx cost 1.1 ms of CPU a request on the development machine, aiohttp 0.23 ms:
    for webhooks the client was the delivery's largest cost. The policy is the same
    as ``safe_request``'s, applied where aiohttp connects: an address literal is
    checked before the request, and a name is resolved by ``_CheckedResolver`` each
    time a connection is opened, which refuses it if any address is not public;
    aiohttp connects to those addresses and no others. A kept connection was checked
    when it was opened, and aiohttp keeps connections by host name, scheme and port,
    so one is only used again for the name it was opened for (and the certificate
    checked against it). At most ``per_host`` connections to one host.
    """

    def __init__(self, *, allow_private: bool, per_host: int = 8) -> None:
        # The server's dependencies: the agent imports this module without them.
        import aiohttp  # noqa: PLC0415
        import yarl  # noqa: PLC0415

        self._aiohttp = aiohttp
        self._url = yarl.URL
        self._allow_private = allow_private
        self._per_host = per_host
        self._opened: aiohttp.ClientSession | None = None
        # URLs the policy accepted (before resolution: names are checked as connected).
        self._checked: dict[str, yarl.URL] = {}
        self._remembered = 4096

    def _session(self) -> aiohttp.ClientSession:
        # Made at the first request: aiohttp binds it to the running event loop.
        if self._opened is None:
            client = self._aiohttp
            self._opened = client.ClientSession(
                connector=client.TCPConnector(
                    limit=0,
                    limit_per_host=self._per_host,
                    # aiohttp only calls resolve() and close(), the abstract class's methods.
                    resolver=cast(
                        "aiohttp.abc.AbstractResolver", _CheckedResolver(self._allow_private)
                    ),
                    use_dns_cache=False,  # every new connection is checked as it is made
                    ssl=_tls_context(),
                ),
                cookie_jar=client.DummyCookieJar(),
                trust_env=False,  # an environment proxy would make the connection, not us
                auto_decompress=False,  # the body as sent, cut at the limit, never inflated
            )
        return self._opened

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        timeout: float,  # noqa: ASYNC109 - the whole call's budget, as safe_request's
        max_response_bytes: int = 65536,
    ) -> SafeResponse:
        """One request to ``url``; a 3xx is returned, not followed. Raises
        ``UnsafeTarget`` for what the policy refuses (before any connection),
        ``RequestTimedOut`` past ``timeout``, ``RequestFailed`` for no answer."""
        aiohttp = self._aiohttp
        target = self._checked.get(url) or self._check(url)
        request_headers = dict(headers or {})
        # A compressed answer would be inflated in memory before it could be cut short.
        request_headers.setdefault("Accept-Encoding", "identity")
        started = time.monotonic()
        try:
            # aiohttp's total covers it all, the answer's body included: against a
            # server that drips its answer a byte at a time too.
            async with self._session().request(
                method,
                target,
                data=content,
                headers=request_headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                body = bytearray()
                while len(body) < max_response_bytes:
                    chunk = await response.content.read(max_response_bytes - len(body))
                    if not chunk:
                        break
                    body += chunk
                # A body not read to its end closes its connection, as it is released.
                return SafeResponse(
                    status_code=response.status,
                    headers={name.lower(): value for name, value in response.headers.items()},
                    body=bytes(body),
                    elapsed=time.monotonic() - started,
                )
        except UnsafeTarget:
            raise
        except TimeoutError:  # aiohttp's own timeouts are TimeoutErrors too
            raise RequestTimedOut(f"no answer from {target.host} within {timeout:g} s") from None
        except aiohttp.ClientConnectorDNSError as exc:
            why = exc.os_error.strerror or exc.os_error
            raise RequestFailed(f"cannot resolve {target.host}: {why}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise RequestFailed(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from None

    def _check(self, url: str) -> yarl.URL:
        """The URL as aiohttp reads it, once the policy accepts what can be known
        before resolving it; remembered, as it is the same for every request."""
        problem = url_problem(url, allow_private=self._allow_private)
        if problem is not None:
            raise UnsafeTarget(problem)
        try:
            target = self._url(url)  # as aiohttp reads it to connect
        except ValueError as exc:
            raise UnsafeTarget(f"the URL is malformed ({exc})") from exc
        literal = _address((target.raw_host or "").removesuffix("."))
        if literal is not None and not self._allow_private and not is_public_address(literal):
            raise UnsafeTarget(f"the address {target.raw_host} is not a public address")
        if len(self._checked) >= self._remembered:
            self._checked.clear()
        self._checked[url] = target
        return target

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.close()
            self._opened = None


class _CheckedResolver:
    """aiohttp's resolver for ``SafeClient``: the name's addresses, refused (``UnsafeTarget``)
    if any is not public, unless private addresses are allowed."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, family=family
            )
        except socket.gaierror as exc:
            raise OSError(exc.errno, exc.strerror) from exc
        results: list[aiohttp.abc.ResolveResult] = []
        for info_family, _, proto, _, sockaddr in infos:
            address = ipaddress.ip_address(sockaddr[0])
            if not self._allow_private and not is_public_address(address):
                raise UnsafeTarget(f"{host} resolves to {address}, which is not a public address")
            results.append(
                {
                    "hostname": host,
                    "host": str(address),
                    "port": port,
                    "family": info_family,
                    "proto": proto,
                    "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                }
            )
        if not results:
            raise OSError(f"{host} has no address")
        return results

    async def close(self) -> None:
        return None


MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class DownloadFailed(Exception):
    """The document could not be had; the message says why."""


class DownloadRefused(DownloadFailed):
    """The address policy refused it: allowing private addresses would let it through."""


async def download(
    url: str,
    *,
    max_bytes: int,
    time_limit: float,
    allow_private: bool,
    transport: httpx.AsyncBaseTransport | None = None,
    clients: ClientPool | None = None,
) -> bytes:
    """GET the document at ``url`` under the address policy (each redirect checked again,
    at most MAX_REDIRECTS), at most ``max_bytes``, within ``time_limit`` seconds in all.
    Raises DownloadFailed."""
    deadline = time.monotonic() + time_limit
    for _ in range(MAX_REDIRECTS + 1):
        problem = url_problem(url, allow_private=True)  # what no setting allows
        if problem is not None:
            raise DownloadFailed(f"cannot fetch the document from {url[:100]!r}: {problem}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DownloadFailed(f"downloading the document took longer than {time_limit:g} s")
        try:
            response = await safe_request(
                "GET",
                url,
                timeout=remaining,
                allow_private=allow_private,
                max_response_bytes=max_bytes + 1,  # one more: to know it was too big
                transport=transport,
                clients=clients,
            )
        except UnsafeTarget as exc:  # the URL is well formed: its address is not public
            raise DownloadRefused(
                f"refused to fetch the document from {_host(url)}: {exc}"
            ) from None
        except httpx.TimeoutException:
            raise DownloadFailed(
                f"downloading the document took longer than {time_limit:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise DownloadFailed(f"could not download the document: {exc}") from None
        location = response.headers.get("location")
        if response.status_code in REDIRECTS and location:
            url = str(httpx.URL(url).join(location))  # checked as the next request is made
            continue
        return _document(response, max_bytes)
    raise DownloadFailed(f"more than {MAX_REDIRECTS} redirects")


def _document(response: SafeResponse, max_bytes: int) -> bytes:
    if response.status_code != 200:
        raise DownloadFailed(f"could not download the document: HTTP {response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DownloadFailed(f"the document is {declared} bytes; the limit is {max_bytes}")
    if len(response.body) > max_bytes:
        raise DownloadFailed(f"the document is larger than the limit of {max_bytes} bytes")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # Asked for as it is (Accept-Encoding: identity): compressed bytes are not the
        # document, and raw data would go to the printer as they are.
        raise DownloadFailed(f"the document was sent compressed ({encoding}), which is refused")
    return response.body


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url[:100]
    except httpx.InvalidURL:
        return url[:100]
