"""uvicorn's HTTP protocol with the two answers it gives before any app sees a request,
in the API's ``{"code", "message"}``.

- **A request it cannot parse** (a request line of 10,000 ids, bytes that are not
  HTTP): uvicorn answers a plain-text 400 of its own; here the same 400 is JSON.
- **Headers that never finish** (slowloris): uvicorn's only timer is keep-alive, and
  the first byte of a request cancels it, so a client sending its headers a byte at a
  time holds a connection, with its buffers, as long as it likes, and a few thousand
  such clients hold them all. Here a request whose headers are not complete
  ``header_timeout`` seconds after its connection opened, or after the answer to the
  one before, is answered 408 and its connection closed, as nginx does. A slow body is
  the body limit's and the route's business; an upgraded WebSocket has its own pings.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _answer(status: bytes, code: str, message: str) -> bytes:
    body = json.dumps({"code": code, "message": message}).encode()
    head = [
        b"HTTP/1.1 " + status,
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


_TIMED_OUT = _answer(
    b"408 Request Timeout", "RequestTimeout", "The request's headers took too long to arrive"
)


class _PrintCloudHttp(HttpToolsProtocol):
    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def send_400_response(self, msg: str) -> None:
        # Written whole: the connection closes right after, as uvicorn's own answer does.
        self.transport.write(_answer(b"400 Bad Request", "BadRequest", msg))
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.write(_TIMED_OUT)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def http_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """The protocol class uvicorn runs, with this deadline for a request's headers."""
    return type("PrintCloudHttp", (_PrintCloudHttp,), {"header_timeout": header_timeout})
