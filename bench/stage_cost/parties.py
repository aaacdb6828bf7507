"""The server's counterparts, held back so that each stage's work stays in its stage.

- ``StagedAgent``: the bench's protocol-speaking agent (``bench.load.agents.Fleet``),
  one of it, as the computer the intake registered; it collects its jobs and reports
  on them only when told.
- ``GatedReceiver``: the load harness's verifying webhook receiver behind a gate:
  deliveries wait at it until ``release()``, so that the events of many jobs pile up
  first and their delivery is measured alone.
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.load.agents import Fleet
from bench.load.hooks import Receive, Receiver, Scope, Send
from websockets.asyncio.client import ClientConnection


class StagedAgent(Fleet):
    """One agent that answers its jobs only when told."""

    def __init__(self, ws_url: str, api_key: str, computer: str, printer: str) -> None:
        super().__init__([ws_url], [api_key], 1)
        self.printer_name = printer
        self._computer = computer
        # Job ids in the order they arrived, and the server's ``error`` answers.
        self.jobs: list[str] = []
        self.errors: list[str] = []
        self._wanted = 0
        self._enough = asyncio.Event()
        self._answered = asyncio.Event()

    def computer_name(self, index: int) -> str:
        return self._computer

    async def _serve(self, index: int, ws: ClientConnection, ready: asyncio.Event) -> None:
        try:
            async for frame in ws:
                message = json.loads(frame)
                kind = message.get("type")
                if kind == "print_job":
                    job_id = message["job"]["id"]
                    self.log.received[job_id].append(time.monotonic_ns())
                    self.jobs.append(job_id)
                    if len(self.jobs) >= self._wanted:
                        self._enough.set()
                elif kind == "printers_ok" and self._sockets.get(index) is ws:
                    self._answered.set()  # the answer to report()'s closing printers
                elif kind == "printers_ok":
                    self._became_ready(index, ws, ready)
                elif kind == "error":
                    self.errors.append(str(message.get("message")))
        finally:
            if self._sockets.get(index) is ws:
                del self._sockets[index]

    async def received(self, count: int, timeout: float) -> None:
        """Wait until ``count`` jobs in all have arrived."""
        self._wanted = count
        if len(self.jobs) < count:
            self._enough.clear()
            async with asyncio.timeout(timeout):
                await self._enough.wait()

    async def report(self, job_ids: list[str], timeout: float) -> None:
        """``printing`` then ``completed`` for each job; returns once the server has
        handled them all.

        The server handles one connection's messages in order, and has nothing to answer
        to a ``job_state``: a ``printers`` report sent after the last one is answered
        once every report before it was handled.
        """
        ws = self._sockets[0]
        for job_id in job_ids:
            await ws.send(f'{{"type":"job_state","jobId":"{job_id}","state":"printing"}}')
            await ws.send(f'{{"type":"job_state","jobId":"{job_id}","state":"completed"}}')
        self._answered.clear()
        await ws.send(self.printers_report())
        async with asyncio.timeout(timeout):
            await self._answered.wait()


class GatedReceiver:
    """``bench.load.hooks.Receiver`` (every signature verified) behind a gate."""

    def __init__(self) -> None:
        self.receiver = Receiver()
        # Deliveries that waited at the gate: sent before the measured stretch began.
        self.held = 0
        self._gate = asyncio.Event()
        self._expected = 0
        self._all_in = asyncio.Event()

    @property
    def answered(self) -> int:
        return self.receiver.log.verified + self.receiver.log.failed

    def release(self, expected: int) -> None:
        """Open the gate; ``all_in`` then waits for ``expected`` deliveries in all."""
        self._expected = expected
        self._gate.set()

    async def all_in(self, timeout: float) -> None:
        if self.answered < self._expected:
            async with asyncio.timeout(timeout):
                await self._all_in.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._gate.is_set():
            self.held += 1
            await self._gate.wait()
        await self.receiver(scope, receive, send)
        if self._gate.is_set() and self.answered >= self._expected:
            self._all_in.set()
