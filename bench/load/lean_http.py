"""A lean HTTP/1.1 keep-alive client for the submitters.

httpx costs the generator about a millisecond of CPU per request, and its pool gets
slower as requests queue behind a slow server: on a 2-core machine shared with the
server, that is CPU taken from the thing being measured. The server's answers to
``POST /api/printjobs`` are small, with a Content-Length, so this client writes the
request bytes, reads the head up to the blank line and then exactly the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

# Below uvicorn's 5 s keep-alive: a request on a connection the server is closing fails,
# and a POST cannot be retried blindly.
KEEPALIVE_SECONDS = 2.0


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float


class LeanHttp:
    """At most ``connections`` keep-alive connections per server, reused LIFO."""

    def __init__(self, connections: int) -> None:
        self.connections = connections
        self._idle: dict[str, deque[_Connection]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    async def post_json(self, url: str, body: bytes, authorization: str) -> tuple[int, bytes]:
        """POST ``body``; the status code and the response body."""
        parts = urlsplit(url)
        origin = f"{parts.hostname}:{parts.port}"
        request = (
            f"POST {parts.path} HTTP/1.1\r\nhost: {origin}\r\nauthorization: {authorization}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode() + body
        slots = self._slots.setdefault(origin, asyncio.Semaphore(self.connections))
        idle = self._idle.setdefault(origin, deque())
        async with slots:
            connection = self._reuse(idle)
            if connection is None:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                connection = _Connection(reader, writer, 0.0)
            try:
                connection.writer.write(request)
                head = await connection.reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = _content_length(head)
                answer = await connection.reader.readexactly(length)
            except BaseException:
                connection.writer.close()
                raise
            if b"\r\nconnection: close" in head.lower():
                connection.writer.close()
            else:
                connection.last_used = time.monotonic()
                idle.append(connection)
        return status, answer

    @staticmethod
    def _reuse(idle: deque[_Connection]) -> _Connection | None:
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.last_used < KEEPALIVE_SECONDS:
                return connection
            connection.writer.close()
        return None

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.writer.close()
                with contextlib.suppress(OSError):
                    await connection.writer.wait_closed()
        self._idle.clear()


def _content_length(head: bytes) -> int:
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line[15:])
    raise ValueError("a response without Content-Length")
