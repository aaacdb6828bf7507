"""A request uvicorn cannot parse is answered before the app sees it: in the API's
``{"code", "message"}`` too, not uvicorn's plain text."""

from __future__ import annotations

import asyncio
import json

from tests.helpers.live_server import LiveServer


async def raw_exchange(live: LiveServer, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` as it is; the response's head and body, once the server closes."""
    host, port = live.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # the server closes after a 400
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


async def test_a_path_of_ten_thousand_ids_is_a_json_400(live: LiveServer) -> None:
    ids = ",".join(f"pj_{n:016d}" for n in range(10_000))

    head, body = await raw_exchange(
        live, f"GET /api/printjobs/{ids} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )

    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"content-type: application/json" in head.lower()
    answer = json.loads(body)
    assert set(answer) == {"code", "message"}
    assert answer["code"] == "BadRequest"


async def test_bytes_that_are_not_http_are_a_json_400(live: LiveServer) -> None:
    head, body = await raw_exchange(live, b"\x16\x03\x01 not http at all\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 400 "), head
    assert json.loads(body)["code"] == "BadRequest"
