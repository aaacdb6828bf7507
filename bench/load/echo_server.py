"""The floor for the agent socket: a WebSocket echo on the server's own stack.

The same uvicorn configuration ``printcloud serve`` uses (``uvicorn_config``: the
same WebSocket implementation, event loop, message size and ping settings), serving
an ASGI app that only echoes. ``python -m bench.load.echo_server --port N``.

Its HTTP answer is the floor of one request on uvicorn + httptools; with ``--fastapi``
the server runs a FastAPI app instead, one POST route answering a constant: the floor
of one request on the server's framework (``bench.stage_cost``).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from fastapi import FastAPI

from printcloud.server.serving import uvicorn_config
from printcloud.server.settings import Settings

Message = MutableMapping[str, Any]


async def echo(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "http":
        # A Content-Length, or uvicorn answers chunked and lean clients cannot keep alive.
        headers = [(b"content-length", b"4")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"echo"})
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text")})
        else:
            return


def constant_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/")
    async def constant() -> dict[str, bool]:
        return {"ok": True}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fastapi", action="store_true", help="a FastAPI constant route")
    arguments = parser.parse_args()
    port = arguments.port
    config = uvicorn_config(
        constant_app() if arguments.fastapi else echo,  # type: ignore[arg-type]
        Settings(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    uvicorn.Server(config).run()
