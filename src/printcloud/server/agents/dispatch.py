"""Getting jobs to the computers connected to this instance, and the periodic sweep.

The database is the truth: a job is committed ``pending`` before anyone is told.
A wake-up (over the bus) makes the instance holding the computer's socket send
it at once; the sweep, every few seconds, sends whatever a lost wake-up missed,
expires jobs past their deadline, takes dead instances' computers offline and ends
the jobs they took with them. Each computer's jobs are sent by one task at a time,
oldest first, once its connection's first ``printers`` was answered: marked ``sent``
in a committed transaction, then written to the socket.

What a connection is sent depends on what its client announced (API.md, "Features a
client announces"): with ``resume``, a job whose outcome never came is sent again on
the next connection, and the agent's journal keeps it from printing twice; without
it, a job is written once, and ends ``error`` if its connection ends first. With
``fetch``, ``*_uri`` jobs go as URIs; without it the server downloads the document
first and sends it as base64.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.outbound import ClientPool
from printcloud.protocol.content import ContentType
from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import Feature, JobPayload
from printcloud.protocol.session import CLOSE_KEY_REVOKED, CLOSE_REMOVED, CLOSE_REPLACED
from printcloud.server.accounts import service as accounts
from printcloud.server.availability import DependencyUnavailable
from printcloud.server.bus import Bus, BusMessage
from printcloud.server.computers import presence
from printcloud.server.db.database import Database
from printcloud.server.db.group_commit import Transactions
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import repository
from printcloud.server.jobs import service as jobs
from printcloud.server.jobs.download import download_document
from printcloud.server.jobs.repository import JobRow, Mode
from printcloud.server.jobs.service import move_job
from printcloud.server.periodic import Periodic
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

BATCH = 100
# Documents this instance downloads at once for clients that do not fetch them.
DOWNLOADS = 4


class AgentLink(Protocol):
    """A live agent connection, as the dispatcher sees it."""

    computer_id: str
    account_id: str
    connection_id: str
    computer_name: str
    key_id: str

    @property
    def features(self) -> frozenset[Feature]: ...

    @property
    def ready_for_jobs(self) -> bool: ...

    async def send_job(self, job: JobPayload) -> None: ...

    async def send_cancel(self, job_id: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...

    async def settled(self) -> None: ...


@dataclass(slots=True)
class _Local:
    link: AgentLink
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        bus: Bus,
        instance_id: str,
        *,
        on_key_revoked: Callable[[str], None] = lambda _key_id: None,
        transactions: Transactions | None = None,
    ) -> None:
        self._settings = settings
        self._transactions = transactions or Transactions(database.sessionmaker)
        # Told of every revocation, this instance's or another's (the bus's ``revoked``).
        self._on_key_revoked = on_key_revoked
        self._sessionmaker = database.sessionmaker
        self._bus = bus
        self.instance_id = instance_id
        self._local: dict[str, _Local] = {}
        # A shutdown let the agents go (``release_all``): nothing more is sent, and a
        # socket that closes leaves its computer to the one statement in ``stop``.
        self.stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper = Periodic("sweep", self._sweep_pass, interval=settings.sweep_interval)
        self._downloading: set[int] = set()
        self._download_slots = asyncio.Semaphore(DOWNLOADS)
        self._download_clients = ClientPool(settings.document_download_timeout)
        # Revocations may have been missed (the bus was away): the next sweep checks.
        self._keys_unchecked = False

    # life cycle

    async def start(self) -> None:
        await self._bus.start(self._on_bus, on_gap=self._after_bus_gap)
        await self.sweep()
        self._sweeper.start()
        log.info("dispatcher_started", instance_id=self.instance_id)

    async def stop(self) -> None:
        await self._sweeper.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._bus.close()
        await self._download_clients.aclose()
        async with unit_of_work(self._sessionmaker) as session:
            await presence.instance_offline(session, self.instance_id)
            await presence.instance_stopped(session, self.instance_id)

    # connections

    async def release_all(self, grace: float) -> list[AgentLink]:
        """A shutdown: this instance sends nothing more and holds no connection; the
        links, for the caller to close. First, for up to ``grace`` seconds, what was
        being written is finished and the clients without ``resume`` report how the
        jobs they were sent ended: after the close their words are never read, and
        such a job would end ``error`` (at most once) although it printed."""
        self.stopping = True
        released = list(self._local.values())
        self._local.clear()  # a delivery under way stops after its batch

        async def settle(local: _Local) -> None:
            async with local.lock:  # the batch being written, written
                pass
            await local.link.settled()

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await asyncio.gather(*(settle(local) for local in released))
        return [local.link for local in released]

    async def live_instances(self) -> int:
        """Server instances alive now, this one included."""
        async with unit_of_work(self._sessionmaker) as session:
            return await presence.live_instances(session, self._live_after(utcnow()))

    def _live_after(self, now: datetime) -> datetime:
        """An instance whose heartbeat is older than this is dead."""
        return now - timedelta(seconds=self._settings.instance_timeout)

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
    def bus_connected(self) -> bool:
        """Wake-ups from the other instances of a cluster reach this one."""
        return self._bus.connected

    @property
    def connection_count(self) -> int:
        return len(self._local)

    # what the commits of other requests ask for (effects), here or on another instance

    async def wake(self, computer_id: str) -> None:
        """Tell whichever instance holds the computer that it has jobs (after a commit)."""
        await self._here_or_everywhere(BusMessage("wake", computer_id))

    async def removed(self, computer_id: str) -> None:
        """Close the connection of a computer deleted through the API (after the commit)."""
        await self._here_or_everywhere(BusMessage("removed", computer_id))

    async def cancelled(self, computer_id: str, job_ids: list[str]) -> None:
        """Tell the computer's agent that these jobs it was sent are deleted."""
        await self._here_or_everywhere(BusMessage("cancel", computer_id, job_ids=tuple(job_ids)))

    async def key_revoked(self, key_id: str) -> None:
        """Close every connection the key authenticated, on every instance."""
        await self._close_key(key_id)
        await self._bus.publish(BusMessage("revoked", key_id=key_id))

    async def _here_or_everywhere(self, message: BusMessage) -> None:
        if message.computer_id in self._local:
            await self._on_bus(message)
        else:
            await self._bus.publish(message)

    async def _on_bus(self, message: BusMessage) -> None:
        if message.kind == "revoked":
            if message.key_id is not None:
                await self._close_key(message.key_id)
            return
        local = self._local.get(message.computer_id)
        if local is None:
            return
        link = local.link
        if message.kind == "wake":
            self._spawn_delivery(message.computer_id)
        elif message.kind == "kick" and link.connection_id != message.connection_id:
            self.unregister(link)
            await link.close(CLOSE_REPLACED, "replaced by a new connection")
        elif message.kind == "removed":
            self.unregister(link)
            await link.close(CLOSE_REMOVED, "the computer was removed from the account")
        elif message.kind == "cancel" and Feature.CANCEL in link.features:
            for job_id in message.job_ids:
                await _quietly(link.send_cancel(job_id), link, job_id)

    async def _close_key(self, key_id: str) -> None:
        # Forgotten before anything awaits: once the revocation is committed, no request
        # of this process may be let in by the remembered answer.
        self._on_key_revoked(key_id)
        for local in [local for local in self._local.values() if local.link.key_id == key_id]:
            self.unregister(local.link)
            await local.link.close(CLOSE_KEY_REVOKED, "the API key was revoked")
            log.info("connection_closed_key_revoked", computer_id=local.link.computer_id)

    def _after_bus_gap(self) -> None:
        """The bus was broken and is back: what it carried meanwhile is lost. Wake-ups
        are made good by a sweep, at once; revocations by reading, in that sweep,
        whether the keys of this instance's connections still stand."""
        self._keys_unchecked = True
        self._sweeper.wake()

    async def _close_revoked(self) -> None:
        key_ids = sorted({local.link.key_id for local in self._local.values()})
        async with unit_of_work(self._sessionmaker) as session:
            revoked = await accounts.revoked_keys(session, key_ids)
        for key_id in revoked:
            await self._close_key(key_id)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(_logged(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn_delivery(self, computer_id: str) -> None:
        self._spawn(self.deliver(computer_id), f"deliver-{computer_id}")

    # delivery

    async def deliver(self, computer_id: str) -> None:
        """Send the computer every job it should have, oldest first."""
        local = self._local.get(computer_id)
        if local is None or not local.link.ready_for_jobs:
            return  # the original's order: no job before the first printers_ok
        async with local.lock:
            while self._local.get(computer_id) is local:
                sent = await self._deliver_batch(local.link)
                if sent < BATCH:
                    return

    async def _deliver_batch(self, link: AgentLink) -> int:
        mode = Mode(resume=Feature.RESUME in link.features, fetch=Feature.FETCH in link.features)
        now = utcnow()

        async def claim(session: AsyncSession) -> tuple[int, list[JobPayload], list[int]]:
            batch = await repository.deliverable(
                session,
                account_id=link.account_id,
                computer_id=link.computer_id,
                connection_id=link.connection_id,
                mode=mode,
                now=now,
                limit=BATCH,
            )
            to_send = []
            for job, content, downloaded in batch:
                if job.state == JobState.PENDING:
                    # Refused when the job moved meanwhile (expired by a sweep, say).
                    await move_job(session, job, JobState.SENT, f"Sent to {link.computer_name}")
                if job.state in jobs.WRITTEN_STATES:
                    to_send.append(_payload(job, content, None if mode.fetch else downloaded))
            await repository.mark_sent_on(
                session,
                [job.seq for job, _, _ in batch if job.state in jobs.WRITTEN_STATES],
                link.connection_id,
                resumable=mode.resume,
            )
            waiting: list[int] = []
            if not mode.fetch:
                waiting = list(
                    await repository.awaiting_download(
                        session,
                        account_id=link.account_id,
                        computer_id=link.computer_id,
                        now=now,
                        limit=BATCH,
                    )
                )
            return len(batch), to_send, waiting

        # Committed with the other computers' deliveries and reports of the moment (group
        # commit); this computer's lock is held meanwhile, so its jobs keep their order.
        count, to_send, waiting = await self._transactions.run(claim)
        for seq in waiting:
            self._spawn_download(seq)
        # Committed: now the agent may hear of them. A socket that fails here leaves them
        # ``sent`` on this connection: sent again to the next one with ``resume``, ended
        # ``error`` when this one's end is handled without it.
        for payload in to_send:
            if not await _quietly(link.send_job(payload), link, payload.id):
                return 0
            log.info(
                "job_sent",
                account_id=link.account_id,
                computer_id=link.computer_id,
                job_id=payload.id,
                connection_id=link.connection_id,
            )
        return count

    def _spawn_download(self, job_seq: int) -> None:
        if job_seq in self._downloading:
            return
        self._downloading.add(job_seq)

        async def download() -> None:
            try:
                async with self._download_slots:
                    await download_document(
                        self._sessionmaker, self._settings, job_seq, self._download_clients
                    )
            finally:
                self._downloading.discard(job_seq)

        self._spawn(download(), f"download-{job_seq}")

    # the sweep

    async def _sweep_pass(self) -> bool:
        await self.sweep()
        return False

    async def sweep(self) -> None:
        """What the wake-ups may have missed: this instance's heartbeat, the computers of
        instances that died (and the jobs written to them without ``resume``), jobs past
        their expiry, and jobs waiting for computers connected here."""
        now = utcnow()
        if self._keys_unchecked:
            self._keys_unchecked = False
            try:
                await self._close_revoked()
            except BaseException:
                self._keys_unchecked = True  # the next sweep tries again
                raise
        async with unit_of_work(self._sessionmaker) as session:
            await presence.heartbeat(
                session, self.instance_id, now, live_after=self._live_after(now)
            )
        async with unit_of_work(self._sessionmaker) as session:
            await jobs.fail_orphaned(session)
        async with unit_of_work(self._sessionmaker) as session:
            await jobs.expire_due(session, now)
        async with unit_of_work(self._sessionmaker) as session:
            waiting = await repository.computers_with_deliverable(session, self.instance_id, now)
        for computer_id in waiting:
            if computer_id in self._local:
                self._spawn_delivery(computer_id)


def _payload(job: JobRow, content: str, downloaded: str | None) -> JobPayload:
    """The job as sent: a document the server downloaded goes as base64, as the
    original document's clients expect."""
    content_type = job.content_type
    if downloaded is not None:
        content_type = ContentType(job.content_type).as_base64.value
        content = downloaded
    return JobPayload(
        id=job.id,
        printer_name=job.printer_name,
        content_type=content_type,
        content=content,
        title=job.title,
        options=job.options,
        qty=job.qty,
    )


async def _logged(work: Coroutine[Any, Any, None], name: str) -> None:
    """A background delivery or download: what fails it is logged, not left in the task.
    With the database away its jobs stay as they are, and the sweep after it sends them."""
    try:
        await work
    except DependencyUnavailable:
        log.info("delivery_postponed", task=name)
    except Exception:
        log.exception("background_task_failed", task=name)


async def _quietly(sending: Awaitable[None], link: AgentLink, job_id: str) -> bool:
    """Send on the socket; False when it is gone (its handler cleans up)."""
    try:
        await sending
    except Exception as exc:  # noqa: BLE001 - the socket is gone; its handler cleans up
        log.info(
            "delivery_interrupted", computer_id=link.computer_id, job_id=job_id, error=str(exc)
        )
        return False
    return True
