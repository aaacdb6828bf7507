"""How uvicorn runs the app: one place for ``printcloud serve`` and the tests."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from printcloud.server.settings import Settings


def uvicorn_config(app: FastAPI, settings: Settings, **overrides: object) -> uvicorn.Config:
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
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]
