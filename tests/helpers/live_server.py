"""PrintCloud (or any ASGI app) under uvicorn on a real socket of 127.0.0.1, in this
process and event loop: a test can drive the server's functions while clients talk to it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from printcloud.server.app import create_app, served
from printcloud.server.runtime import Runtime
from printcloud.server.serving import Server, uvicorn_config


class OpenSockets:
    """How many WebSocket sessions an app is serving, counted by ``CountSockets``, and
    when each began (``opened``: the event loop's time, refused ones too)."""

    def __init__(self) -> None:
        self.count = 0
        self.opened: list[float] = []
        self._changed = asyncio.Event()

    def add(self, delta: int) -> None:
        if delta > 0:
            self.opened.append(asyncio.get_running_loop().time())
        self.count += delta
        self._changed.set()
        self._changed = asyncio.Event()

    async def until(self, count: int, timeout: float = 10) -> None:
        """Wait until exactly ``count`` sessions are being served."""
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed
                if self.count == count:
                    return
                await changed.wait()


class CountSockets:
    """The outermost middleware: a WebSocket session ends here once the app's handler has
    returned, with everything it does when a socket closes done."""

    def __init__(self, app: ASGIApp, sockets: OpenSockets) -> None:
        self.app = app
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        self.sockets.add(1)
        try:
            await self.app(scope, receive, send)
        finally:
            self.sockets.add(-1)


@dataclass
class LiveServer:
    runtime: Runtime
    url: str
    sockets: OpenSockets = field(default_factory=OpenSockets)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


@contextlib.asynccontextmanager
async def serve(runtime: Runtime, port: int = 0) -> AsyncIterator[LiveServer]:
    """Run PrintCloud under uvicorn on a free port of 127.0.0.1, with its lifespan. The
    server counts the agent sockets it serves (``LiveServer.sockets``)."""
    sockets = OpenSockets()
    app = CountSockets(served(create_app(runtime=runtime)), sockets)
    config = uvicorn_config(app, runtime.settings, host="127.0.0.1", log_level="warning")
    async with serve_asgi(config, port, before_shutdown=runtime.release_agents) as url:
        yield LiveServer(runtime, url, sockets)


@contextlib.asynccontextmanager
async def serve_asgi(
    config: uvicorn.Config,
    port: int = 0,
    *,
    before_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[str]:
    """Run ``config``'s app on 127.0.0.1 (a free port unless given); its base URL.
    ``before_shutdown``: as ``printcloud serve`` runs it (see ``serving.Server``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config) if before_shutdown is None else Server(config, before_shutdown)
    server.capture_signals = _keep_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # uvicorn says nothing when it has started: ask it
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.contextmanager
def _keep_signals() -> Iterator[None]:
    """In place of uvicorn's ``capture_signals``: the test run keeps its signals (Ctrl-C).
    uvicorn would take SIGINT and SIGTERM over while it serves, and servers that overlap
    would restore each other's handlers when they stop."""
    yield


def free_port() -> int:
    """A port nothing listens on now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
