"""A client that sends its request headers slowly (slowloris) gets 408 and is let go."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.live_server import serve


@pytest.fixture
async def raw(
    runtime_factory: Callable[..., Runtime],
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A TCP connection to a server whose header deadline is short."""
    runtime = runtime_factory(http_header_timeout=0.3)
    async with serve(runtime) as server:
        address = urlsplit(server.url)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        yield reader, writer
        writer.close()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    # The deadline is the server's: this only bounds a broken test.
    return await asyncio.wait_for(reader.read(), timeout=30)


async def test_headers_that_never_finish_are_answered_408_and_the_connection_closed(
    raw: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    reader, writer = raw
    writer.write(b"GET /api/printers HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    await writer.drain()
    answer = await _read_all(reader)  # ends: the server closed the connection
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body) == {
        "code": "RequestTimeout",
        "message": "The request's headers took too long to arrive",
    }


async def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_request(
    raw: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    reader, writer = raw
    writer.write(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
    assert first.startswith(b"HTTP/1.1 404 ")  # answered in time: served as usual
    length = next(
        int(line.split(b":")[1])
        for line in first.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    writer.write(b"GET /nowhere HTTP/1.1\r\nHo")  # the next one stalls
    await writer.drain()
    assert (await _read_all(reader)).startswith(b"HTTP/1.1 408 ")
