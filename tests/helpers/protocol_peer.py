"""A scripted server end of the agent protocol, for what a real PrintCloud server does
not do on cue: a ``cancel_job`` at the moment a test chooses, a close with a given code.

It is a real peer: a WebSocket server whose every message is made and read by
``protocol.session.ServerSession``, as the server's own ``/ws`` handler does. It
answers ``auth`` with ``auth_ok`` (accepting every feature the agent announced) and
``printers`` with ``printers_ok``; everything else is the test's to send. It can also
refuse the next connections as a busy server does (``refuse_next``), and notes when
each connection arrived (``arrivals``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import Auth, JobPayload, JobStateReport, Printers
from printcloud.protocol.session import ServerSession

TIMEOUT = 10.0


@dataclass
class PeerConnection:
    """One authenticated agent connection."""

    ws: ServerConnection
    session: ServerSession
    auth: Auth
    messages: list[Printers | JobStateReport] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _printers_answered: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def ready(self) -> None:
        """Until the agent's printers were answered: from then on jobs may be sent."""
        async with asyncio.timeout(TIMEOUT):
            await self._printers_answered.wait()

    async def send(self, text: str) -> None:
        async with self._lock:
            await self.ws.send(text)

    async def send_job(self, job: JobPayload) -> None:
        await self.send(self.session.print_job(job))

    async def cancel_job(self, job_id: str) -> None:
        await self.send(self.session.cancel_job(job_id))

    async def close(self, code: int, reason: str) -> None:
        self.session.close()
        await self.ws.close(code, reason)

    def reports(self, job_id: str) -> list[JobStateReport]:
        """The agent's reports about ``job_id`` so far, in order."""
        return [m for m in self.messages if isinstance(m, JobStateReport) and m.job_id == job_id]

    async def report(self, job_id: str, state: JobState) -> JobStateReport:
        """The agent's report that ``job_id`` is in ``state``, once it has come."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                changed = self._changed
                for report in self.reports(job_id):
                    if report.state is state:
                        return report
                await changed.wait()

    async def ended(self) -> None:
        """Until the connection is closed: every message the agent sent is in ``messages``."""
        async with asyncio.timeout(TIMEOUT):
            await self.closed.wait()

    def _received(self, message: Printers | JobStateReport) -> None:
        self.messages.append(message)
        self._changed.set()
        self._changed = asyncio.Event()


class ProtocolPeer:
    """The server: ``url`` for the agent's configuration; its connections in order."""

    def __init__(self) -> None:
        self.url = ""
        self.arrivals: list[float] = []  # the event loop's time at each opening handshake
        self._connections: asyncio.Queue[PeerConnection] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._refusals: list[tuple[int, str]] = []

    def refuse_next(self, code: int, reason: str) -> None:
        """Close the next connection not yet refused at once, with ``code`` and ``reason``,
        before reading anything: a server's admission control refusing a handshake."""
        self._refusals.append((code, reason))

    async def connection(self) -> PeerConnection:
        """The next connection to authenticate."""
        async with asyncio.timeout(TIMEOUT):
            return await self._connections.get()

    async def _handle(self, ws: ServerConnection) -> None:
        self.arrivals.append(asyncio.get_running_loop().time())
        if self._refusals:
            await ws.close(*self._refusals.pop(0))
            return
        session = ServerSession()
        first = session.receive(await ws.recv())
        if first.close is not None or not isinstance(first.message, Auth):
            if first.reply is not None:
                await ws.send(first.reply)
            await ws.close(first.close.code if first.close else 1008, "authenticate first")
            return
        await ws.send(session.accept(f"cmp_peer{next(self._ids)}", first.message))
        connection = PeerConnection(ws, session, first.message)
        self._connections.put_nowait(connection)
        try:
            async for text in ws:
                received = session.receive(text)
                if received.reply is not None:
                    await connection.send(received.reply)
                message = received.message
                if isinstance(message, Printers):
                    await connection.send(session.printers_ok(len(message.printers)))
                    connection._printers_answered.set()
                if isinstance(message, Printers | JobStateReport):
                    connection._received(message)
        except ConnectionClosed:
            pass
        finally:
            connection.closed.set()


@contextlib.asynccontextmanager
async def protocol_peer() -> AsyncIterator[ProtocolPeer]:
    """A scripted server on a free port of 127.0.0.1, for as long as the block runs."""
    peer = ProtocolPeer()
    async with serve(peer._handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        peer.url = f"http://127.0.0.1:{port}"
        yield peer
