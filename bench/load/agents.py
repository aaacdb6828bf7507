"""Simulated agents: raw WebSocket connections speaking the protocol, no printing.

Each agent authenticates, reports one printer, and answers every ``print_job`` with
``printing`` then ``completed``. Receipt times are kept per job id, every receipt, so
the harness can count losses and duplicates. After a disconnect an agent waits until
the harness allows reconnecting (so jobs can queue while agents are away), then
reconnects at once: the thundering herd a server restart causes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

PRINTER_NAME = "Bench Printer"


@dataclass
class FleetLog:
    """What the agents saw, shared by all of them (one event loop: no locks needed)."""

    received: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # monotonic_ns once each job's ``completed`` report was handed to the socket.
    completed: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    connected: int = 0
    # Attempts that failed before the agent was ready, and sessions lost after.
    connect_failures: int = 0
    disconnects: int = 0
    # monotonic_ns of each agent's latest printers_ok: when it was ready for jobs.
    ready_at: dict[int, int] = field(default_factory=dict)


class Fleet:
    """N agents over one or more servers; agent i uses ``urls()[i % len]``."""

    # Each agent's one printer; a subclass may take over a printer registered before.
    printer_name = PRINTER_NAME

    def __init__(self, urls: list[str], keys: list[str], count: int) -> None:
        self.urls = urls
        self.keys = keys
        self.count = count
        self.log = FleetLog()
        self.may_connect = asyncio.Event()
        self.may_connect.set()
        # Told each job id once its ``completed`` report is sent (closed-loop drivers).
        self.on_completed: Callable[[str], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sockets: dict[int, ClientConnection] = {}

    def computer_name(self, index: int) -> str:
        return f"bench-agent-{index}"

    def account_of(self, index: int) -> int:
        return index % len(self.keys)

    async def start(self, indices: range, timeout: float = 300) -> None:
        """Start these agents and wait until every one is connected and ready."""
        ready = [asyncio.Event() for _ in indices]
        for event, index in zip(ready, indices, strict=True):
            self._tasks.append(asyncio.create_task(self._run(index, event)))
        async with asyncio.timeout(timeout):
            for event in ready:
                await event.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self, index: int, ready: asyncio.Event) -> None:
        delay = 0.05
        while True:
            await self.may_connect.wait()
            was_ready = self.log.ready_at.get(index)
            try:
                await self._session(index, ready)
                self.log.disconnects += 1  # the server closed normally
                delay = 0.05
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError, ValueError):
                # A server restart closes with 1012, which websockets raises: a session
                # that got ready and then ended is a disconnect, not a failure.
                if self.log.ready_at.get(index) != was_ready:
                    self.log.disconnects += 1
                    continue
                self.log.connect_failures += 1
                # Jittered, growing, capped: like the real agent's backoff.
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    async def _session(self, index: int, ready: asyncio.Event) -> None:
        url = self.urls[index % len(self.urls)]
        # No client pings: the server pings, and 10,000 pinging clients cost CPU here.
        async with connect(url, open_timeout=60, ping_interval=None, max_size=None) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "auth",
                        "apiKey": self.keys[self.account_of(index)],
                        "computerName": self.computer_name(index),
                        "os": "Linux",
                        "clientVersion": "bench",
                    }
                )
            )
            answer = json.loads(await ws.recv())
            if answer.get("type") != "auth_ok":
                raise ValueError(f"agent {index}: {answer}")
            await ws.send(self.printers_report())
            await self._serve(index, ws, ready)

    def printers_report(self) -> str:
        """The ``printers`` message: the agent's one printer."""
        printer = {"name": self.printer_name, "capabilities": {}, "isDefault": True}
        return json.dumps({"type": "printers", "printers": [printer]})

    async def _serve(self, index: int, ws: ClientConnection, ready: asyncio.Event) -> None:
        received = self.log.received
        try:
            async for frame in ws:
                message = json.loads(frame)
                kind = message.get("type")
                if kind == "print_job":
                    job_id = message["job"]["id"]
                    received[job_id].append(time.monotonic_ns())
                    await ws.send(f'{{"type":"job_state","jobId":"{job_id}","state":"printing"}}')
                    await ws.send(f'{{"type":"job_state","jobId":"{job_id}","state":"completed"}}')
                    self.log.completed[job_id].append(time.monotonic_ns())
                    if self.on_completed is not None:
                        self.on_completed(job_id)
                elif kind == "printers_ok":
                    self.log.ready_at[index] = time.monotonic_ns()
                    self._sockets[index] = ws
                    self.log.connected += 1
                    ready.set()
        finally:
            if self._sockets.get(index) is ws:
                del self._sockets[index]

    @property
    def ready_count(self) -> int:
        """Agents connected and ready for jobs now."""
        return len(self._sockets)

    async def wait_disconnected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while self._sockets:
                await asyncio.sleep(0.05)

    async def wait_ready(self, count: int, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while len(self._sockets) < count:
                    await asyncio.sleep(0.01)
        return len(self._sockets) >= count
