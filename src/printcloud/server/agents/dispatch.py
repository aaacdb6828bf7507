"""Getting jobs to the computers connected to this instance, and the periodic sweep.

The database is the truth: a job is committed ``pending`` before anyone is told.
A wake-up (over the bus) makes the instance holding the computer's socket send
it at once; the sweep, every few seconds, sends whatever a lost wake-up missed,
expires jobs past their deadline and takes dead instances' computers offline.
Each computer's jobs are sent by one task at a time, oldest first: marked
``sent`` in a committed transaction, then written to the socket. A job whose
socket died before the agent reported it is sent again on the computer's next
connection, and so is one left ``printing``: the agent's journal keeps it from
printing twice and reports its outcome.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import structlog

from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import JobPayload
from printcloud.protocol.session import CLOSE_REMOVED, CLOSE_REPLACED
from printcloud.server.bus import Bus, BusMessage
from printcloud.server.computers import presence
from printcloud.server.db.database import Database
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import repository
from printcloud.server.jobs import service as jobs
from printcloud.server.jobs.service import move_job
from printcloud.server.periodic import Periodic
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

BATCH = 100


class AgentLink(Protocol):
    """A live agent connection, as the dispatcher sees it."""

    computer_id: str
    account_id: str
    connection_id: str
    computer_name: str

    async def send_job(self, job: JobPayload) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


@dataclass
class _Local:
    link: AgentLink
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Dispatcher:
    def __init__(self, settings: Settings, database: Database, bus: Bus, instance_id: str) -> None:
        self._settings = settings
        self._sessionmaker = database.sessionmaker
        self._bus = bus
        self.instance_id = instance_id
        self._local: dict[str, _Local] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper = Periodic("sweep", self._sweep_pass, interval=settings.sweep_interval)

    # life cycle

    async def start(self) -> None:
        await self._bus.start(self._on_bus)
        await self.sweep()
        self._sweeper.start()
        log.info("dispatcher_started", instance_id=self.instance_id)

    async def stop(self) -> None:
        await self._sweeper.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._bus.close()
        async with unit_of_work(self._sessionmaker) as session:
            await presence.instance_stopped(session, self.instance_id)

    # connections

    async def register(self, link: AgentLink) -> None:
        """Hold ``link`` for its computer; a connection it replaces is closed."""
        previous = self._local.get(link.computer_id)
        self._local[link.computer_id] = _Local(link)
        if previous is not None and previous.link.connection_id != link.connection_id:
            await previous.link.close(CLOSE_REPLACED, "replaced by a new connection")
        # Any other instance holding an older connection of this computer closes it.
        await self._bus.publish(BusMessage("kick", link.computer_id, link.connection_id))

    def unregister(self, link: AgentLink) -> None:
        current = self._local.get(link.computer_id)
        if current is not None and current.link.connection_id == link.connection_id:
            del self._local[link.computer_id]

    @property
    def connection_count(self) -> int:
        return len(self._local)

    # wake-ups

    async def wake(self, computer_id: str) -> None:
        """Tell whichever instance holds the computer that it has jobs (after a commit)."""
        if computer_id in self._local:
            self._spawn_delivery(computer_id)
        else:
            await self._bus.publish(BusMessage("wake", computer_id))

    async def _on_bus(self, message: BusMessage) -> None:
        local = self._local.get(message.computer_id)
        if local is None:
            return
        if message.kind == "wake":
            self._spawn_delivery(message.computer_id)
        elif message.kind == "kick" and local.link.connection_id != message.connection_id:
            self.unregister(local.link)
            await local.link.close(CLOSE_REPLACED, "replaced by a new connection")
        elif message.kind == "removed":
            self.unregister(local.link)
            await local.link.close(CLOSE_REMOVED, "the computer was removed from the account")

    async def removed(self, computer_id: str) -> None:
        """Close the connection of a computer deleted through the API (after the commit)."""
        message = BusMessage("removed", computer_id)
        if computer_id in self._local:
            await self._on_bus(message)
        else:
            await self._bus.publish(message)

    def _spawn_delivery(self, computer_id: str) -> None:
        task = asyncio.create_task(self.deliver(computer_id), name=f"deliver-{computer_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # delivery

    async def deliver(self, computer_id: str) -> None:
        """Send the computer every job it should have, oldest first."""
        local = self._local.get(computer_id)
        if local is None:
            return
        async with local.lock:
            while self._local.get(computer_id) is local:
                sent = await self._deliver_batch(local.link)
                if sent < BATCH:
                    return

    async def _deliver_batch(self, link: AgentLink) -> int:
        async with unit_of_work(self._sessionmaker) as session:
            batch = await repository.deliverable(
                session,
                account_id=link.account_id,
                computer_id=link.computer_id,
                connection_id=link.connection_id,
                now=utcnow(),
                limit=BATCH,
            )
            to_send = []
            for job, content in batch:
                if job.state == JobState.PENDING:
                    # Refused when the job moved meanwhile (expired by a sweep, say).
                    await move_job(session, job, JobState.SENT, f"Sent to {link.computer_name}")
                if job.state in (JobState.SENT, JobState.PRINTING):
                    to_send.append((job, content))
            await repository.mark_sent_on(
                session, [job.seq for job, _ in to_send], link.connection_id
            )
        # Committed: now the agent may hear of them. A socket that fails here leaves them
        # ``sent`` on this connection, and the next connection is sent them again.
        for job, content in to_send:
            try:
                await link.send_job(
                    JobPayload(
                        id=job.id,
                        printer_name=job.printer_name,
                        content_type=job.content_type,
                        content=content,
                        title=job.title,
                        options=job.options,
                        qty=job.qty,
                    )
                )
            except Exception as exc:  # noqa: BLE001 - the socket is gone; its handler cleans up
                log.info(
                    "delivery_interrupted",
                    computer_id=link.computer_id,
                    job_id=job.id,
                    error=str(exc),
                )
                return 0
            log.info(
                "job_sent",
                account_id=link.account_id,
                computer_id=link.computer_id,
                job_id=job.id,
                connection_id=link.connection_id,
            )
        return len(batch)

    # the sweep

    async def _sweep_pass(self) -> bool:
        await self.sweep()
        return False

    async def sweep(self) -> None:
        """What the wake-ups may have missed: this instance's heartbeat, the computers of
        instances that died, jobs past their expiry, and jobs waiting for computers
        connected here."""
        now = utcnow()
        async with unit_of_work(self._sessionmaker) as session:
            await presence.heartbeat(
                session,
                self.instance_id,
                now,
                live_after=now - timedelta(seconds=self._settings.instance_timeout),
            )
        async with unit_of_work(self._sessionmaker) as session:
            await jobs.expire_due(session, now)
        async with unit_of_work(self._sessionmaker) as session:
            waiting = await repository.computers_with_deliverable(session, self.instance_id, now)
        for computer_id in waiting:
            if computer_id in self._local:
                self._spawn_delivery(computer_id)
