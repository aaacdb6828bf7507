"""The agent's connection loop: a thin adapter over ``protocol.session.ClientSession``.

Connect, authenticate (announcing every feature the agent has, and its machine
id), report printers (again whenever they change), print what arrives (one job at
a time per printer), report each outcome; drop or cancel a job the server deleted;
reconnect when the connection ends, as ``reconnect.Reconnection`` decides,
forever, unless the key is refused or revoked. The journal makes a job delivered
twice print once, and a deleted job never print.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import platform
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
import websockets
from websockets.asyncio.client import ClientConnection

from printcloud._version import __version__
from printcloud.agent import memory
from printcloud.agent.config import AgentConfig
from printcloud.agent.content import load_document
from printcloud.agent.journal import CANCELLED, INTERRUPTED, Handed, Journal
from printcloud.agent.printers.base import Backend, Follows, PrintFailed
from printcloud.agent.reconnect import RUN_LOGIN_AGAIN, AgentFatal, ConnectionEnd, Reconnection
from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import (
    AuthError,
    CancelJob,
    Error,
    Feature,
    InvalidMessage,
    JobPayload,
    MalformedMessage,
    PrinterInfo,
    PrintJob,
)
from printcloud.protocol.session import ClientSession, ProtocolError

log = structlog.get_logger(__name__)

MAX_MESSAGE = 128 * 1024 * 1024  # a print_job carries a whole document, base64
# Every feature this agent has: jobs resent until their outcome arrives (the journal
# answers a repeat), URIs fetched here under the agent's own address policy, cancel_job.
FEATURES = frozenset({Feature.RESUME, Feature.FETCH, Feature.CANCEL})


@dataclass
class _Link:
    ws: ClientConnection
    session: ClientSession
    lock: asyncio.Lock


async def collect_printers(
    backends: list[Backend], only: list[str]
) -> tuple[list[PrinterInfo], dict[str, Backend]]:
    """Every backend's printers (the first backend to name a printer keeps it)."""
    printers: list[PrinterInfo] = []
    owners: dict[str, Backend] = {}
    for backend in backends:
        try:
            found = await backend.printers()
        except Exception as exc:  # noqa: BLE001 - one backend down must not hide the others
            log.warning("printers_unavailable", backend=backend.name, error=str(exc))
            continue
        for printer in found:
            if only and printer.name not in only:
                continue
            if printer.name in owners:
                log.warning("printer_name_taken", printer=printer.name, backend=backend.name)
                continue
            owners[printer.name] = backend
            printers.append(printer)
    return printers, owners


class _Progress:
    """What a backend tells about one job: news goes to the server as a repeated
    ``printing`` report, a hand-over to the printing system into the journal."""

    def __init__(self, agent: Agent, job_id: str, backend: str) -> None:
        self._agent = agent
        self._job_id = job_id
        self._backend = backend

    async def news(self, message: str) -> None:
        self._agent._news[self._job_id] = message
        log.info("job_news", job_id=self._job_id, message=message)
        await self._agent._report(self._job_id, JobState.PRINTING, message)

    def accepted(self, printer: str, printer_job: int, of: int) -> None:
        self._agent.journal.handed_over(self._job_id, self._backend, printer, printer_job, of)
        self._agent.holds(self._job_id)


class Agent:
    def __init__(self, config: AgentConfig, backends: list[Backend], journal: Journal) -> None:
        self.config = config
        self.backends = backends
        self.journal = journal
        self._owners: dict[str, Backend] = {}
        self._reported: list[dict[str, object]] | None = None
        self._link: _Link | None = None
        self._active: set[str] = set()
        self._idle = asyncio.Event()  # set when no job is being printed
        self._idle.set()
        self._queues: dict[str, asyncio.Queue[JobPayload]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._printing: dict[str, tuple[str, Backend]] = {}  # job id -> its printer, backend
        self._cancelled: set[str] = set()  # jobs queued or printing that the server deleted
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.connected = asyncio.Event()  # set while authenticated; for status and tests
        self.draining = asyncio.Event()  # set once stopping waits for the jobs printing
        self._news: dict[str, str] = {}  # job id -> the last news of a job printing
        # Jobs a printing system holds (CUPS), by the task following each: they print
        # whether the agent runs or not, and the journal lets the next start follow
        # them, so a stop lets go of them instead of waiting (a paused printer: hours).
        self._held: dict[str, asyncio.Task[Any]] = {}
        self._let_go: set[str] = set()
        for job_id in journal.interrupted():
            journal.finish(job_id, JobState.ERROR, INTERRUPTED)
            log.warning("job_interrupted", job_id=job_id)
        # Handed to CUPS before the agent stopped: followed from the start of run(), and
        # active meanwhile, so that the job sent again by the server is not printed.
        self._handed = journal.handed()
        for handed in self._handed:
            self._active.add(handed.job_id)
            self._idle.clear()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def request_stop(self) -> None:
        """Stop taking jobs, let the ones printing finish and report, then return; the
        ones a printing system holds are left to it (the next start follows them)."""
        self._stopping.set()

    async def run(self) -> None:
        reconnection = Reconnection()
        for handed in self._handed:
            self._spawn(self._recover(handed))
        self._handed = []
        try:
            while not self._stopping.is_set():
                end = await self._connection()
                if not self._stopping.is_set():
                    await self._pause(reconnection.delay_after(end))  # or AgentFatal
            await self._drain()
        finally:
            tasks = [*self._workers.values(), *self._background]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _pause(self, delay: float) -> None:
        log.info("reconnecting", in_seconds=round(delay, 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _drain(self) -> None:
        self.draining.set()
        for job_id in list(self._held):
            self._let_go_of(job_id)
        await self._idle.wait()

    def holds(self, job_id: str) -> None:
        """The printing system took the job, in the task running now (see ``_held``)."""
        task = asyncio.current_task()
        if task is None:
            return
        self._held[job_id] = task
        if self.draining.is_set():
            self._let_go_of(job_id)

    def _let_go_of(self, job_id: str) -> None:
        task = self._held.pop(job_id, None)
        if task is not None and job_id not in self._let_go:
            self._let_go.add(job_id)
            task.cancel()

    def _left_to_printer(self, job_id: str) -> bool:
        """Whether the cancellation being handled is a stop letting go of the job; then
        it ends here, and the journal keeps the job printing for the next start."""
        if job_id not in self._let_go:
            return False
        self._let_go.discard(job_id)
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        log.info("job_left_to_printer", hint="followed again when the agent starts")
        return True

    async def _connection(self) -> ConnectionEnd:
        """One connection, until it ends or the agent stops: how it ended. Raises
        AgentFatal when the server refuses the key."""
        url = self.config.websocket_url
        log.info("connecting", url=url)
        clock = asyncio.get_running_loop().time
        ws: ClientConnection | None = None
        authenticated_at: float | None = None
        error: str | None = None
        try:
            async with websockets.connect(
                url,
                max_size=MAX_MESSAGE,
                open_timeout=15,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=5,
            ) as ws:
                session = ClientSession()
                await ws.send(
                    session.auth(
                        api_key=self.config.api_key,
                        computer_name=self.config.name,
                        os=_os_name(),
                        client_version=__version__,
                        features=FEATURES,
                        machine_id=self.config.machine_id,
                    )
                )
                answer = session.receive(await asyncio.wait_for(ws.recv(), 30))
                if isinstance(answer, AuthError):
                    if answer.fatal:
                        raise AgentFatal(
                            f"the server refused the API key: {answer.message}; {RUN_LOGIN_AGAIN}"
                        )
                    log.warning("auth_refused", reason=answer.message)
                    return ConnectionEnd()
                authenticated_at = clock()
                log.info(
                    "connected",
                    computer_id=session.computer_id,
                    name=self.config.name,
                    features=sorted(str(feature) for feature in session.features),
                )
                link = _Link(ws, session, asyncio.Lock())
                self._link = link
                self._reported = None
                self.connected.set()
                try:
                    await self._serve(link)
                finally:
                    self.connected.clear()
                    self._link = None
        except (
            OSError,
            TimeoutError,
            websockets.exceptions.WebSocketException,
            MalformedMessage,
            InvalidMessage,
            ProtocolError,
        ) as exc:
            error = str(exc) or type(exc).__name__
        # The server's close frame, when it sent one: its code says why (replaced, revoked...),
        # and a restarting or busy server's reason says when to come back.
        close = ws.protocol.close_rcvd if ws is not None else None
        return ConnectionEnd(
            authenticated=authenticated_at is not None,
            lasted=clock() - authenticated_at if authenticated_at is not None else 0.0,
            close_code=close.code if close is not None else None,
            close_reason=close.reason if close is not None else None,
            error=error,
        )

    async def _serve(self, link: _Link) -> None:
        await self.refresh_printers()
        watcher = asyncio.create_task(self._watch_printers())
        stopper = asyncio.create_task(self._stopping.wait())
        try:
            async for raw in _messages(link.ws, stopper):
                self._on_message(link, raw)
                del raw  # a job's document, maybe large: not kept while the next is awaited
        finally:
            watcher.cancel()
            stopper.cancel()
            if self._stopping.is_set():
                await self._drain()  # the jobs in progress report on this connection
                await link.ws.close()

    def _on_message(self, link: _Link, raw: str | bytes) -> None:
        try:
            message = link.session.receive(raw)
        except InvalidMessage as exc:  # a newer server's message: go on
            log.warning("message_ignored", error=str(exc))
            return
        if isinstance(message, PrintJob):
            self._accept(message.job)
        elif isinstance(message, CancelJob):
            with structlog.contextvars.bound_contextvars(job_id=message.job_id):
                self._cancel(message.job_id)
        elif isinstance(message, Error):
            log.warning("server_error", message=message.message)

    async def refresh_printers(self) -> None:
        printers, owners = await collect_printers(self.backends, self.config.only_printers)
        self._owners = owners
        reported = [p.model_dump() for p in printers]
        if reported != self._reported:
            await self._send(lambda s: s.printers(printers))
            self._reported = reported
            log.info("printers_reported", count=len(printers))

    async def _watch_printers(self) -> None:
        while True:
            await asyncio.sleep(self.config.printer_poll_interval)
            await self.refresh_printers()

    # jobs

    def _accept(self, job: JobPayload) -> None:
        if job.id in self._active:
            # Printing already (since before this connection, or followed after a
            # restart): its news again, for a server that may not have heard it.
            if (news := self._news.get(job.id)) is not None:
                self._report_later(job.id, JobState.PRINTING, news)
            return
        if self._stopping.is_set():
            return  # not started now: the server sends it again to the next connection
        known = self.journal.get(job.id)
        if known is not None and known.finished:
            log.info("job_already_done", job_id=job.id, state=known.state)
            self._report_later(job.id, known.state, known.message)
            return
        if job.printer_name not in self._owners:
            message = f"No printer named {job.printer_name!r} on {self.config.name}"
            self.journal.start(job.id)
            self.journal.finish(job.id, JobState.ERROR, message)
            self._report_later(job.id, JobState.ERROR, message)
            return
        self._active.add(job.id)
        self._idle.clear()
        queue = self._queues.setdefault(job.printer_name, asyncio.Queue())
        queue.put_nowait(job)
        if job.printer_name not in self._workers or self._workers[job.printer_name].done():
            self._workers[job.printer_name] = asyncio.create_task(
                self._work(job.printer_name, queue), name=f"printer-{job.printer_name}"
            )

    async def _work(self, printer: str, queue: asyncio.Queue[JobPayload]) -> None:
        while True:
            job = await queue.get()
            try:
                if self._stopping.is_set():
                    continue  # left for the next connection
                if job.id in self._cancelled:
                    continue  # deleted while it waited: the journal says so already
                with structlog.contextvars.bound_contextvars(job_id=job.id, printer=printer):
                    await self._print(printer, job)
            finally:
                self._active.discard(job.id)
                self._cancelled.discard(job.id)
                if not self._active:
                    self._idle.set()
                large = len(job.content) >= memory.LARGE
                del job  # its document: not kept while the next job is awaited
                if large:
                    memory.release_freed_memory()

    async def _print(self, printer: str, job: JobPayload) -> None:
        known = self.journal.start(job.id)
        if known is not None:  # delivered twice before the first one started
            self._report_later(job.id, known.state, known.message or INTERRUPTED)
            return
        await self._report(job.id, JobState.PRINTING, f"Printing on {printer}")
        log.info("job_printing", title=job.title, content_type=job.content_type)
        try:
            document = await load_document(
                job,
                max_bytes=self.config.download_max_bytes,
                time_limit=self.config.download_timeout,
                allow_private=self.config.allow_private_urls,
            )
            if job.id in self._cancelled:  # deleted while its document was loading
                self.journal.finish(job.id, JobState.ERROR, CANCELLED)
                log.info("job_cancelled", before="printing")
                return
            backend = self._owners[printer]
            document = dataclasses.replace(document, progress=_Progress(self, job.id, backend.name))
            self._printing[job.id] = (printer, backend)  # from here a cancel goes to it
            try:
                state, message = JobState.COMPLETED, await backend.print(printer, document)
            except asyncio.CancelledError:
                if self._left_to_printer(job.id):
                    return
                raise
            finally:
                del self._printing[job.id]
                self._news.pop(job.id, None)
                self._held.pop(job.id, None)
        except PrintFailed as exc:
            state, message = JobState.ERROR, str(exc)
        except Exception as exc:  # whatever went wrong, the job gets an outcome
            log.exception("job_crashed")
            state, message = JobState.ERROR, f"The agent failed while printing: {exc}"
        if job.id in self._cancelled:
            # The server deleted the job: no report (it would only answer "Unknown job");
            # the journal keeps what happened, and answers the job if it comes again.
            state, message = _cancelled_outcome(state, message)
            self.journal.finish(job.id, state, message)
            log.info("job_cancelled", during="printing", state=state, message=message)
            return
        self.journal.finish(job.id, state, message)
        log.info("job_done", state=state, message=message)
        await self._report(job.id, state, message)

    async def _recover(self, handed: Handed) -> None:
        """A job the agent had handed to its printing system before it stopped: what
        that system did with it, as its outcome (never printed again)."""
        job_id = handed.job_id
        try:
            with structlog.contextvars.bound_contextvars(job_id=job_id, printer=handed.printer):
                await self._follow_handed(handed)
        finally:
            self._active.discard(job_id)
            self._cancelled.discard(job_id)
            if not self._active:
                self._idle.set()

    async def _follow_handed(self, handed: Handed) -> None:
        job_id = handed.job_id
        backend = next((b for b in self.backends if b.name == handed.backend), None)
        log.info("job_recovering", backend=handed.backend, printer_jobs=handed.printer_jobs)
        if backend is not None:  # from here a cancel goes to it
            self._printing[job_id] = (handed.printer, backend)
        self.holds(job_id)
        try:
            state, message = await self._followed(handed, backend)
        except asyncio.CancelledError:
            if self._left_to_printer(job_id):
                return
            raise
        except Exception as exc:  # whatever went wrong, the job gets an outcome
            log.exception("job_crashed")
            state, message = JobState.ERROR, f"The agent failed while following it: {exc}"
        finally:
            self._printing.pop(job_id, None)
            self._news.pop(job_id, None)
            self._held.pop(job_id, None)
        if job_id in self._cancelled:
            state, message = _cancelled_outcome(state, message)
            self.journal.finish(job_id, state, message)
            log.info("job_cancelled", during="printing", state=state, message=message)
        else:
            self.journal.finish(job_id, state, message)
            log.info("job_done", state=state, message=message, recovered=True)
            await self._report(job_id, state, message)

    async def _followed(self, handed: Handed, backend: Backend | None) -> tuple[JobState, str]:
        if not isinstance(backend, Follows):  # that backend is no longer configured
            return JobState.ERROR, INTERRUPTED
        progress = _Progress(self, handed.job_id, handed.backend)
        try:
            message = await backend.follow(
                handed.printer, handed.job_id, handed.printer_jobs, handed.runs, progress
            )
        except PrintFailed as exc:
            return JobState.ERROR, str(exc)
        return JobState.COMPLETED, message

    def _cancel(self, job_id: str) -> None:
        """``cancel_job``: the server deleted a job it had sent. From now on the job is
        not printed: dropped if it waits, stopped (best effort) if it prints, and when
        it has not arrived yet, the journal refuses it when it does."""
        if job_id not in self._active:
            known = self.journal.cancel(job_id)
            if known is None:
                log.info("job_cancelled", before="arriving")
            else:
                log.info("job_cancel_too_late", state=known.state, message=known.message)
            return
        self._cancelled.add(job_id)
        printing = self._printing.get(job_id)
        if printing is None:
            # Waiting in its printer's queue: finished here and now. Loading its document
            # (started already): left as it is, and _print finishes it once loaded.
            if self.journal.cancel(job_id) is None:
                log.info("job_cancelled", before="printing")
            else:
                log.info("job_cancelling", phase="loading its document")
            return
        printer, backend = printing
        log.info("job_cancelling", phase="printing", printer=printer, backend=backend.name)
        self._spawn(self._stop_printing(job_id, printer, backend))

    async def _stop_printing(self, job_id: str, printer: str, backend: Backend) -> None:
        """Ask the backend to stop; _print records the outcome when its print ends."""
        try:
            stopped = await backend.cancel(printer, job_id)
        except Exception:  # best effort: the job's outcome is recorded all the same
            log.exception("job_cancel_failed", printer=printer)
            return
        log.info("job_cancel_asked", printer=printer, stopped=stopped)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background_task_failed", error=str(exc) or type(exc).__name__)

    def _report_later(self, job_id: str, state: JobState, message: str) -> None:
        self._spawn(self._report(job_id, state, message))

    async def _report(self, job_id: str, state: JobState, message: str) -> None:
        """Tell the server, on whatever connection is up now. Without one the outcome
        waits in the journal: the server sends the job again and gets it then."""
        await self._send(lambda s: s.job_state(job_id, state, message))

    async def _send(self, build: Callable[[ClientSession], str]) -> None:
        link = self._link
        if link is None:
            return
        try:
            async with link.lock:
                await link.ws.send(build(link.session))
        except (websockets.exceptions.ConnectionClosed, ProtocolError) as exc:
            log.info("report_deferred", error=str(exc))


async def run_until_signalled(agent: Agent) -> None:
    """Run the agent like uvicorn runs a server: the first SIGINT/SIGTERM drains (the
    jobs printing finish and report), a second one exits at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def on_signal() -> None:
        if agent.stopping:
            log.warning("exiting_now")
            task.cancel()
        else:
            log.info("stopping", hint="finishing the job in progress; signal again to exit")
            agent.request_stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still interrupts
            loop.add_signal_handler(sig, on_signal)
    try:
        await agent.run()
    except AgentFatal as exc:
        log.error("agent_stopped", reason=str(exc))  # noqa: TRY400 - a refusal, not a crash
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        for backend in agent.backends:
            await backend.close()


def _cancelled_outcome(state: JobState, message: str) -> tuple[JobState, str]:
    """What the journal keeps of a job deleted while it was printing."""
    if state is JobState.COMPLETED:
        return state, f"{message}; the job was deleted while printing, too late to stop it"
    return JobState.ERROR, f"{CANCELLED} while printing ({message})"


def _messages(ws: ClientConnection, stopper: asyncio.Task[bool]) -> _AsyncMessages:
    return _AsyncMessages(ws, stopper)


class _AsyncMessages:
    """The connection's messages until it closes or the agent is asked to stop."""

    def __init__(self, ws: ClientConnection, stopper: asyncio.Task[bool]) -> None:
        self._ws = ws
        self._stopper = stopper

    def __aiter__(self) -> _AsyncMessages:
        return self

    async def __anext__(self) -> str | bytes:
        receive = asyncio.ensure_future(self._ws.recv())
        try:
            done, _ = await asyncio.wait(
                {receive, self._stopper}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            # Stopping, or the agent's task cancelled: a receive left behind would fail
            # alone once the connection drops ("Task exception was never retrieved").
            if not receive.done():
                receive.cancel()
        if receive not in done:
            raise StopAsyncIteration
        try:
            return receive.result()
        except websockets.exceptions.ConnectionClosedOK:
            raise StopAsyncIteration from None


def _os_name() -> str:
    return f"{platform.system()} {platform.release()}".strip()
