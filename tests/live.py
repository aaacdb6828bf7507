"""A real server on a real socket, and a small agent that speaks the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from printcloud.server.app import create_app
from printcloud.server.runtime import Runtime
from printcloud.server.serving import uvicorn_config


@dataclass
class LiveServer:
    runtime: Runtime
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


@contextlib.asynccontextmanager
async def serve(runtime: Runtime, port: int = 0) -> AsyncIterator[LiveServer]:
    """Run PrintCloud under uvicorn on a free port of 127.0.0.1, with its lifespan."""
    app = create_app(runtime=runtime)
    config = uvicorn_config(app, runtime.settings, host="127.0.0.1", log_level="warning")
    async with serve_asgi(config, port) as url:
        yield LiveServer(runtime, url)


@contextlib.asynccontextmanager
async def serve_asgi(config: uvicorn.Config, port: int = 0) -> AsyncIterator[str]:
    """Run ``config``'s app on 127.0.0.1 (a free port unless given); its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class WsAgent:
    """The agent's side of the protocol, by hand: what a test says is what is sent."""

    def __init__(
        self,
        ws_url: str,
        api_key: str,
        name: str = "Office-PC",
        os: str = "Linux",
        version: str = "1.0.0",
    ) -> None:
        self.ws_url = ws_url
        self.api_key = api_key
        self.name = name
        self.os = os
        self.version = version
        self.ws: ClientConnection | None = None
        self.computer_id: str | None = None

    async def open(self) -> None:
        self.ws = await connect(self.ws_url, open_timeout=5, close_timeout=2, max_size=None)

    async def connect(self, printers: list[str] | None = None) -> dict[str, Any]:
        """Open, authenticate and (when given) report printers; the auth answer."""
        await self.open()
        await self.send(
            {
                "type": "auth",
                "apiKey": self.api_key,
                "computerName": self.name,
                "os": self.os,
                "clientVersion": self.version,
            }
        )
        answer = await self.recv()
        if answer["type"] == "auth_ok":
            self.computer_id = answer["computerId"]
            if printers is not None:
                await self.report_printers(printers)
        return answer

    async def report_printers(self, names: list[str]) -> None:
        await self.send(
            {
                "type": "printers",
                "printers": [
                    {
                        "name": n,
                        "capabilities": {"color": True, "duplex": True},
                        "isDefault": i == 0,
                    }
                    for i, n in enumerate(names)
                ],
            }
        )
        answer = await self.recv()
        assert answer == {"type": "printers_ok", "count": len(set(names))}, answer

    async def send(self, message: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        assert self.ws is not None
        data: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return data

    async def report(self, job_id: str, state: str, message: str = "") -> None:
        await self.send({"type": "job_state", "jobId": job_id, "state": state, "message": message})

    async def closed(self, timeout: float = 10) -> tuple[int | None, str | None]:
        """Wait for the server to close; its close code and reason."""
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        return self.ws.close_code, self.ws.close_reason

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def drop(self) -> None:
        """Vanish without a close handshake, like a computer losing its network."""
        if self.ws is not None:
            self.ws.transport.abort()
            with contextlib.suppress(Exception):
                await self.ws.wait_closed()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``printcloud serve`` in a process of its own, as an operator runs it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "printcloud", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start in time"
            try:
                httpx.get(f"{self.url}/api/openapi.json", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
            else:
                return

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


TEST_PASSWORD = "s3cret-enough"


def create_user(env: dict[str, str], email: str, password: str = TEST_PASSWORD) -> None:
    """``printcloud users create``, as an operator runs it, against ``env``'s database."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "printcloud",
            "users",
            "create",
            "--email",
            email,
            "--password",
            password,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def client_login(url: str, email: str, password: str = TEST_PASSWORD) -> str:
    """A new full API key, from ``POST /api/client/login``."""
    response = httpx.post(f"{url}/api/client/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["apiKey"])
