"""Webhook receivers on loopback that record every POST they are sent.

``webhook_receiver`` serves in the test's event loop, for async tests and for a
server in the same process; ``webhook_receiver_thread`` serves from a thread, for
tests that wait on other processes without an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers.live_server import serve_asgi
from tests.helpers.waiting import eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookReceiver:
    """Records every POST to ``url``/<name>; answers from a script of (status, delay,
    headers), then ``status_by_path`` (by ``/name``), then ``status``."""

    url: str = ""
    status: int = 200
    received: list[Received] = field(default_factory=list)
    script: deque[tuple[int, float, dict[str, str]]] = field(default_factory=deque)
    status_by_path: dict[str, int] = field(default_factory=dict)

    async def endpoint(self, request: Request) -> Response:
        self.received.append(
            Received(request.url.path, dict(request.headers), await request.body())
        )
        status, delay, headers = (
            self.script.popleft()
            if self.script
            else (self.status_by_path.get(request.url.path, self.status), 0.0, {})
        )
        await asyncio.sleep(delay)  # a slow receiver, when the script says so
        # No body with a 204 or 304: uvicorn refuses to send one and drops the connection,
        # and a kept-alive client's next request on it then fails (a broken receiver).
        body = "" if status in (204, 304) else f"answer {status}"
        return Response(body, status_code=status, headers=headers)

    def at(self, path: str) -> list[Received]:
        """What was posted to ``path`` (``/name``), in the order it arrived."""
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, timeout: float = 10) -> list[Received]:
        """What was posted to ``path``, once there are at least ``count`` of them: for a
        sender in the background (a server's worker, another process)."""

        async def enough() -> list[Received] | None:
            found = self.at(path)
            return found if len(found) >= count else None

        return await eventually(enough, timeout)


@contextlib.asynccontextmanager
async def webhook_receiver(status: int = 200) -> AsyncIterator[WebhookReceiver]:
    """A ``WebhookReceiver`` served by uvicorn on a free port of 127.0.0.1."""
    hook = WebhookReceiver(status=status)
    app = Starlette(routes=[Route("/{name}", hook.endpoint, methods=["POST"])])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        hook.url = url
        yield hook


@dataclass
class ThreadedReceiver:
    """The bodies POSTed to ``url``, answered 204 from a thread."""

    url: str
    received: list[bytes]


@contextlib.contextmanager
def webhook_receiver_thread(port: int = 0) -> Iterator[ThreadedReceiver]:
    """A ``ThreadedReceiver`` on ``port`` of 127.0.0.1 (a free one unless given)."""
    received: list[bytes] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield ThreadedReceiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
