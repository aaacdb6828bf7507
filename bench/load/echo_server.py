"""The floor for the agent socket: a WebSocket echo on the server's own stack.

The same uvicorn configuration ``printcloud serve`` uses (``uvicorn_config``: the
same WebSocket implementation, event loop, message size and ping settings), serving
an ASGI app that only echoes. ``python -m bench.load.echo_server --port N``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from printcloud.server.serving import uvicorn_config
from printcloud.server.settings import Settings

Message = MutableMapping[str, Any]


async def echo(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    config = uvicorn_config(
        echo,  # type: ignore[arg-type]
        Settings(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    uvicorn.Server(config).run()
