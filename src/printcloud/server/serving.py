"""How uvicorn runs the app: one place for ``printcloud serve`` and the tests."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import structlog
import uvicorn
from starlette.types import ASGIApp

from printcloud.server.http_protocol import http_protocol
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)


def uvicorn_config(app: ASGIApp, settings: Settings, **overrides: object) -> uvicorn.Config:
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        # Only a configured proxy may say who the client is and whether it used https.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
        # Agents send small messages; documents only flow from the server to them.
        "ws_max_size": settings.ws_max_message_size,
        # permessage-deflate keeps a zlib compressor and decompressor per socket: it
        # doubled an idle agent's cost to the server (83 KiB against 42 KiB measured),
        # to save a quarter of a base64 document's bytes now and then.
        "ws_per_message_deflate": False,
        # Server-side pings find a dead peer within interval + timeout.
        "ws_ping_interval": settings.ws_ping_interval,
        "ws_ping_timeout": settings.ws_ping_timeout,
        "timeout_graceful_shutdown": 10,
        "http": http_protocol(settings.http_header_timeout),
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]


class Server(uvicorn.Server):
    """uvicorn's server, letting the agents go first on a shutdown.

    uvicorn closes every socket with a bare 1012 and each handler then writes its
    computer's offline state on its own: with 10,000 agents that took over a minute, and
    all of them came back at the same instant. ``before_shutdown`` (the runtime's
    ``release_agents``) tells each agent when to come back instead; it runs once the
    server stopped accepting connections, before uvicorn's own shutdown.
    """

    def __init__(
        self, config: uvicorn.Config, before_shutdown: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        try:
            await self._before_shutdown()
        except Exception:
            log.exception("release_agents_failed")  # uvicorn's shutdown still closes them
        await super().shutdown(sockets)
