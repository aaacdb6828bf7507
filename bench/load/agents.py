"""Simulated agents: raw WebSocket connections speaking the protocol, no printing.

Each agent authenticates, reports one printer, and answers every ``print_job`` with
``printing`` then ``completed``. Receipt times are kept per job id, every receipt, so
the harness can count losses and duplicates.

Agents come back as the real agent does, by its own reconnection logic
(``printcloud.agent.reconnect``): full-jitter backoff from the first retry, and a
server's ``retry_after`` hint (a 1012 or 1013 close) honoured. A 1013 is the server's
deliberate "try again later": counted as refused, never as a failure. The harness may
also hold every agent off (``may_connect``) so that jobs queue while they are away;
once released, an agent waits out what remains of its own wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from printcloud.agent.reconnect import ConnectionEnd, Reconnection
from printcloud.protocol.retry_hint import CLOSE_TRY_AGAIN_LATER

PRINTER_NAME = "Bench Printer"


@dataclass
class FleetLog:
    """What the agents saw, shared by all of them (one event loop: no locks needed)."""

    received: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # monotonic_ns once each job's ``completed`` report was handed to the socket.
    completed: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    connected: int = 0
    # Attempts the server refused (close 1013), attempts that failed before the agent was
    # ready in any other way (by kind), and sessions lost after it was ready.
    refused: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    # monotonic_ns of each agent's latest printers_ok: when it was ready for jobs.
    ready_at: dict[int, int] = field(default_factory=dict)
    # (monotonic_ns, agent) of every printers_ok, and of every end of a ready session.
    ready_log: list[tuple[int, int]] = field(default_factory=list)
    closed_log: list[tuple[int, int]] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """The counters now: subtract an earlier reading for what happened in between."""
        failed = {f"failed: {kind}": count for kind, count in self.failures.items()}
        return Counter({"refused": self.refused, "disconnects": self.disconnects, **failed})


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
        reconnection = Reconnection(random.Random(index))
        resume_at = 0.0
        while True:
            await self._wait_turn(resume_at)
            was_ready = self.log.ready_at.get(index)
            end = await self._session(index, ready)
            if self.log.ready_at.get(index) != was_ready:
                # A restart closes with 1012: a session that got ready and then ended is
                # a disconnect, not a failure.
                self.log.closed_log.append((time.monotonic_ns(), index))
                self.log.disconnects += 1
            elif end.close_code == CLOSE_TRY_AGAIN_LATER:
                self.log.refused += 1
            else:
                kind = f"close {end.close_code}" if end.close_code else end.error
                self.log.failures[kind or "ended before ready"] += 1
            resume_at = time.monotonic() + reconnection.delay_after(end)

    async def _wait_turn(self, resume_at: float) -> None:
        """Until the harness lets agents connect and this agent's own wait is over."""
        await self.may_connect.wait()
        while (remaining := resume_at - time.monotonic()) > 0:
            await asyncio.sleep(remaining)
            await self.may_connect.wait()

    async def _session(self, index: int, ready: asyncio.Event) -> ConnectionEnd:
        """One connection, to its end, told as the agent's reconnection logic reads it."""
        ws: ClientConnection | None = None
        authenticated_at: float | None = None
        error: str | None = None
        url = self.urls[index % len(self.urls)]
        try:
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
                if answer.get("type") == "auth_ok":
                    authenticated_at = time.monotonic()
                    await ws.send(self.printers_report())
                    await self._serve(index, ws, ready)
                else:
                    # The server closes after its answer: its close code tells a refusal
                    # for now (1013) from a failure.
                    await asyncio.wait_for(ws.wait_closed(), 10)
        except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError, ValueError) as exc:
            error = failure_kind(exc)
        close = ws.protocol.close_rcvd if ws is not None else None
        return ConnectionEnd(
            authenticated=authenticated_at is not None,
            lasted=time.monotonic() - authenticated_at if authenticated_at is not None else 0.0,
            close_code=close.code if close is not None else None,
            close_reason=close.reason if close is not None else None,
            error=error,
        )

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
                    self._became_ready(index, ws, ready)
        finally:
            if self._sockets.get(index) is ws:
                del self._sockets[index]

    def _became_ready(self, index: int, ws: ClientConnection, ready: asyncio.Event) -> None:
        now = time.monotonic_ns()
        self.log.ready_at[index] = now
        self.log.ready_log.append((now, index))
        self._sockets[index] = ws
        self.log.connected += 1
        ready.set()

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


def failure_kind(error: Exception) -> str:
    """How an attempt failed, for the counts (a close frame's code is counted before this)."""
    if isinstance(error, InvalidStatus):
        return f"http {error.response.status_code}"
    if isinstance(error, ConnectionClosed):
        return "closed" if error.rcvd is not None else "closed without a close frame"
    if isinstance(error, TimeoutError):
        return "timeout"
    return type(error).__name__
