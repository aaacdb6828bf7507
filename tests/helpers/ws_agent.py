"""The agent's side of the WebSocket protocol, by hand: what a test says is what is sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class WsAgent:
    """The agent's side of the protocol, by hand: what a test says is what is sent.

    By default a client written from the original document alone: it announces no
    features and sends no machine id. ``features`` and ``machine_id`` add the [ext] fields.
    """

    def __init__(
        self,
        ws_url: str,
        api_key: str,
        name: str = "Office-PC",
        os: str = "Linux",
        version: str = "1.0.0",
        *,
        features: list[str] | None = None,
        machine_id: str | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.api_key = api_key
        self.name = name
        self.os = os
        self.version = version
        self.features = features
        self.machine_id = machine_id
        self.ws: ClientConnection | None = None
        self.computer_id: str | None = None

    async def open(self) -> None:
        self.ws = await connect(self.ws_url, open_timeout=5, close_timeout=2, max_size=None)

    async def connect(self, printers: list[str] | None = None) -> dict[str, Any]:
        """Open, authenticate and (when given) report printers; the auth answer."""
        await self.open()
        auth: dict[str, Any] = {
            "type": "auth",
            "apiKey": self.api_key,
            "computerName": self.name,
            "os": self.os,
            "clientVersion": self.version,
        }
        if self.features is not None:
            auth["features"] = self.features
        if self.machine_id is not None:
            auth["machineId"] = self.machine_id
        await self.send(auth)
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

    async def replies_before_probe(self, probe: str) -> list[dict[str, Any]]:
        """Report job ``probe``, which does not exist; every message that arrived before
        the server's answer to it (the answers to what was sent before, in order)."""
        await self.report(probe, "completed")
        replies = []
        while (answer := await self.recv()) != {"type": "error", "message": f"Unknown job {probe}"}:
            replies.append(answer)
        return replies

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
