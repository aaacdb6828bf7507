"""``/ws``: the agent's WebSocket. A thin adapter over ``protocol.session.ServerSession``:
it moves text between the socket and the session, and acts on what the session
says (authenticate, record printers, move jobs)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from dataclasses import dataclass

import structlog
from fastapi import WebSocket
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState

from printcloud.protocol.job_states import FINAL_STATES, JobState
from printcloud.protocol.messages import (
    Auth,
    AuthRefusal,
    Feature,
    JobPayload,
    JobStateReport,
    Printers,
)
from printcloud.protocol.retry_hint import (
    CLOSE_SERVICE_RESTART,
    CLOSE_TRY_AGAIN_LATER,
    with_retry_after,
)
from printcloud.protocol.session import CLOSE_INVALID_DATA, CLOSE_TOO_BIG, Close, ServerSession
from printcloud.server import metrics
from printcloud.server.accounts import service as accounts
from printcloud.server.accounts.service import KeyRefused, Principal
from printcloud.server.agents.admission import Admission, Ticket
from printcloud.server.agents.dispatch import Dispatcher
from printcloud.server.availability import RETRY_AFTER, DependencyUnavailable
from printcloud.server.computers import presence
from printcloud.server.computers.presence import ConnectionRefused
from printcloud.server.computers.repository import ComputerRow
from printcloud.server.db.database import Database
from printcloud.server.db.group_commit import Transactions
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import repository as jobs
from printcloud.server.jobs import service as jobs_service
from printcloud.server.jobs.service import move_job
from printcloud.server.keycache import KeyCache
from printcloud.server.ratelimit import Rate
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)


_DEFAULT_MESSAGES = {
    JobState.PRINTING: "Printing on {}",
    JobState.COMPLETED: "Printed on {}",
    JobState.ERROR: "Printing failed on {}",
}


@dataclass(frozen=True)
class AgentPorts:
    """What the agents' socket uses of the process."""

    settings: Settings
    database: Database
    dispatcher: Dispatcher
    transactions: Transactions
    admission: Admission
    principals: KeyCache[Principal]


class _Gone(Exception):
    """The peer closed the socket."""


class AgentConnection:
    """One authenticated agent socket; what the dispatcher sends through."""

    # Ten thousand of these live for months: no per-instance dict.
    __slots__ = (
        "_paced_until",
        "_send_lock",
        "_settled",
        "_unanswered",
        "_warnings",
        "account_id",
        "computer_id",
        "computer_name",
        "connection_id",
        "key_id",
        "session",
        "ticket",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        session: ServerSession,
        computer: ComputerRow,
        *,
        connection_id: str,
        key_id: str,
        ticket: Ticket,
    ) -> None:
        self.websocket = websocket
        self.session = session
        # Plain values, not the row: a session's ORM object kept for months holds its
        # identity-map state alive with it.
        self.computer_id = computer.id
        self.account_id = computer.account_id
        self.computer_name = computer.name
        self.connection_id = connection_id
        self.key_id = key_id  # revoking it closes this connection
        # Its place among the connections being admitted, until its first printers_ok.
        self.ticket = ticket
        self._send_lock = asyncio.Lock()
        # Jobs written to a client without ``resume`` whose outcome has not come: a
        # shutdown waits for them a moment (``settled``), since once this side closes,
        # what the client says is never read and such a job ends ``error``. Made when
        # first needed: most sockets are idle.
        self._unanswered: set[str] | None = None
        self._settled: asyncio.Event | None = None
        self._paced_until = 0.0  # when its message budget is whole again (loop time)
        self._warnings = 0

    def pace(self, rate: Rate, now: float) -> float:
        """Seconds to wait before acting on one more message of this agent.

        A burst of ``rate.count`` messages goes at once, then one every interval. Past
        that the socket is read more slowly rather than closed: an agent flushing its
        journal after a long night offline is not misbehaving, and the wait holds the
        flood in its own TCP buffers, not in the server."""
        interval = rate.period / rate.count
        start = max(self._paced_until, now)
        self._paced_until = start + interval
        return max(0.0, start + interval - rate.count * interval - now)

    def worth_logging(self) -> int:
        """Count one more warning about this agent; its number if it is worth a log
        line (the first ten, then the hundredth, the thousandth...), else 0."""
        self._warnings += 1
        count = self._warnings
        return count if count <= 10 or str(count).strip("0") == "1" else 0

    @property
    def features(self) -> frozenset[Feature]:
        return self.session.features

    @property
    def ready_for_jobs(self) -> bool:
        return self.session.ready_for_jobs

    async def send(self, text: str) -> None:
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def send_job(self, job: JobPayload) -> None:
        if Feature.RESUME not in self.features:
            if self._unanswered is None:
                self._unanswered = set()
            self._unanswered.add(job.id)
        await self.send(self.session.print_job(job))

    def answered(self, job_id: str) -> None:
        """The job's outcome came (or nothing about it is awaited any more)."""
        if self._unanswered is None:
            return
        self._unanswered.discard(job_id)
        if not self._unanswered:
            self._unanswered = None
            if self._settled is not None:
                self._settled.set()

    async def settled(self) -> None:
        """Once no job written to this socket awaits its outcome."""
        if self._unanswered:
            self._settled = asyncio.Event()
            await self._settled.wait()

    async def send_cancel(self, job_id: str) -> None:
        self.answered(job_id)  # deleted: nothing to wait for
        await self.send(self.session.cancel_job(job_id))

    async def close(self, code: int, reason: str) -> None:
        self.session.close()
        await _close(self.websocket, Close(code, reason))


async def _close(websocket: WebSocket, close: Close) -> None:
    if websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(close.code, close.reason)


async def _receive(websocket: WebSocket, max_size: int) -> str:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise _Gone
    text = message.get("text")
    if text is None:
        data = message.get("bytes") or b""
        text = data.decode("utf-8", errors="replace")
    if len(text) > max_size:
        raise _TooBig
    return str(text)


class _TooBig(Exception):
    pass


class AgentSockets:
    """``/ws``, answered before the HTTP middleware and the router.

    A socket lives for months, and every ASGI layer it passes through keeps a
    coroutine frame alive for as long: served here, an idle agent costs the server
    about a third less memory. Nothing in those layers applies to it (body limits,
    CORS, HTTP error pages). So it wraps the FastAPI app from outside (``app.served``)
    rather than sitting in its middleware stack, where FastAPI's own layers (error
    page, telemetry, body limit) would still hold five frames for each socket.
    """

    def __init__(self, app: ASGIApp, ports: AgentPorts) -> None:
        self.app = app
        self.ports = ports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["path"].rstrip("/") != "/ws":
            await self.app(scope, receive, send)
            return
        admission = self.ports.admission
        if self.ports.dispatcher.stopping:
            _refused(metrics.RESTARTING)
            await _refuse(receive, send, restarting(admission.restart_hints(1)[0]))
            return
        ticket = admission.enter()
        if ticket is None:
            _refused(metrics.BUSY)
            busy = Close(
                CLOSE_TRY_AGAIN_LATER, with_retry_after("server busy", admission.retry_after())
            )
            await _refuse(receive, send, busy)
            return
        try:
            await agent_socket(WebSocket(scope, receive, send), self.ports, ticket)
        finally:
            ticket.release()


def _refused(reason: str) -> None:
    """Count a handshake that did not end in ``auth_ok`` (the operator's metrics)."""
    metrics.HANDSHAKES_REFUSED_BY_REASON[reason].inc()


def _come_back_later(exc: DependencyUnavailable) -> Close:
    """A 1013 for an outage of the database: the agent tries again in a few seconds,
    each at its own moment (spread over as long again), not all at once."""
    hint = RETRY_AFTER * (1 + random.random())  # noqa: S311 - spreading, not a secret
    return Close(CLOSE_TRY_AGAIN_LATER, with_retry_after(f"{exc.dependency} unavailable", hint))


def restarting(hint: float) -> Close:
    """The close of a graceful shutdown: come back in ``hint`` seconds."""
    return Close(CLOSE_SERVICE_RESTART, with_retry_after("server restarting", hint))


async def _refuse(receive: Receive, send: Send, close: Close) -> None:
    """Accept and close at once with the hint: the cheapest answer a client can read
    (a refused HTTP upgrade has no close code for it to act on)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": close.code, "reason": close.reason})


async def agent_socket(websocket: WebSocket, ports: AgentPorts, ticket: Ticket) -> None:
    settings = ports.settings
    await websocket.accept()
    session = ServerSession()
    try:
        received = session.receive(
            await asyncio.wait_for(
                _receive(websocket, settings.ws_max_message_size), settings.ws_auth_timeout
            )
        )
    except TimeoutError:
        _refused(AuthRefusal.AUTH_TIMEOUT)
        reply, close = session.reject(
            "Authentication timed out: send auth first", AuthRefusal.AUTH_TIMEOUT
        )
        await websocket.send_text(reply)
        await _close(websocket, close)
        return
    except _TooBig:
        _refused(metrics.TOO_BIG)
        await _close(websocket, Close(CLOSE_TOO_BIG, "message too big"))
        return
    except (_Gone, WebSocketDisconnect):
        _refused(metrics.GONE)
        return
    if received.reply:
        await websocket.send_text(received.reply)
    if received.close or not isinstance(received.message, Auth):
        malformed = received.close is not None and received.close.code == CLOSE_INVALID_DATA
        _refused(metrics.MALFORMED if malformed else AuthRefusal.BAD_AUTH)
        await _close(websocket, received.close or Close(1008, "authenticate first"))
        return

    auth = received.message
    del received  # nothing from the handshake is kept for the socket's lifetime
    connection = await _authenticate(websocket, ports, session, auth, ticket)
    del auth
    if connection is None:
        return
    # A client that never reports its printers gives its place back anyway.
    # (Not kept, nor cancelled: a release after the one that counted does nothing, and a
    # handle kept in this frame would live as long as the socket.)
    asyncio.get_running_loop().call_later(settings.ws_auth_timeout, ticket.release)
    metrics.AGENT_CONNECTIONS.inc()
    try:
        await _serve(connection, ports)
    finally:
        metrics.AGENT_CONNECTIONS.dec()
        ports.dispatcher.unregister(connection)
        if not ports.dispatcher.stopping:  # else they go offline together (Dispatcher.stop)
            try:
                await _went_offline(connection, ports)
            except DependencyUnavailable:
                # It reads online until it comes back, which its agent does by itself.
                log.info("computer_offline_not_recorded", computer_id=connection.computer_id)


async def _went_offline(connection: AgentConnection, ports: AgentPorts) -> None:
    async with unit_of_work(ports.database.sessionmaker) as db:
        await presence.disconnect(db, connection.computer_id, connection.connection_id)
        # Written to this connection without resume, and never reported: at most once.
        await jobs_service.fail_unreported(
            db,
            connection.computer_id,
            live_connection_id=await presence.live_connection(db, connection.computer_id),
        )


async def _authenticate(
    websocket: WebSocket, ports: AgentPorts, session: ServerSession, auth: Auth, ticket: Ticket
) -> AgentConnection | None:
    connection_id = "conn_" + secrets.token_hex(8)
    computer: ComputerRow | None = None
    resume = Feature.RESUME in auth.known_features()

    async def come_online(db: AsyncSession) -> ComputerRow:
        online = await presence.connect(
            db,
            principal,
            auth,
            instance_id=ports.dispatcher.instance_id,
            connection_id=connection_id,
            max_connections=ports.settings.max_connections_per_account,
        )
        # Jobs written to earlier connections and never reported: without resume,
        # nothing on this one could answer them from a journal.
        await jobs_service.fail_unreported(
            db, online.id, live_connection_id=connection_id, include_resumable=not resume
        )
        return online

    reason, refusal = "Invalid API key", AuthRefusal.INVALID_KEY
    try:
        principal = await _principal(ports, auth.api_key)
        presence.check_permission(principal)  # before the batch: a refusal fails it
    except KeyRefused as exc:
        reason = exc.message
        refusal = AuthRefusal.KEY_REVOKED if exc.revoked else AuthRefusal.INVALID_KEY
    except ConnectionRefused as exc:
        reason, refusal = str(exc), exc.refusal
    except DependencyUnavailable as exc:
        _refused(metrics.DEPENDENCY_UNAVAILABLE)
        await _close(websocket, _come_back_later(exc))
        return None
    else:
        for attempt in range(2):
            try:
                # Committed with the other agents connecting meanwhile (group commit).
                computer = await ports.transactions.run(come_online)
                break
            except ConnectionRefused as exc:
                reason, refusal = str(exc), exc.refusal
                break
            except IntegrityError:
                if attempt:
                    reason = "Could not register the computer; try again"
                    refusal = AuthRefusal.TRY_AGAIN
            except DependencyUnavailable as exc:
                _refused(metrics.DEPENDENCY_UNAVAILABLE)
                await _close(websocket, _come_back_later(exc))
                return None
    if computer is None:
        _refused(refusal)
        log.info("agent_refused", reason=reason, computer_name=auth.computer_name)
        reply, close = session.reject(reason, refusal)
        await websocket.send_text(reply)
        await _close(websocket, close)
        return None
    connection = AgentConnection(
        websocket,
        session,
        computer,
        connection_id=connection_id,
        key_id=principal.key_id,
        ticket=ticket,
    )
    await connection.send(session.accept(computer.id, auth))
    metrics.AGENT_HANDSHAKES_ACCEPTED.inc()
    if ports.dispatcher.stopping:  # the shutdown let the others go while this one authenticated
        close = restarting(ports.admission.restart_hints(1)[0])
        await connection.close(close.code, close.reason)
        return None
    await ports.dispatcher.register(connection)
    return connection


async def _principal(ports: AgentPorts, api_key: str) -> Principal:
    """Who the key is: remembered, as for the API, so that a storm of reconnections
    after a restart reads each key once, not once per computer."""
    principal = accounts.remembered_principal(ports.principals, api_key)
    if principal is not None:
        return principal
    async with unit_of_work(ports.database.sessionmaker) as db:
        return await accounts.authenticate(db, api_key, ports.principals)


async def _serve(connection: AgentConnection, ports: AgentPorts) -> None:
    max_size = ports.settings.ws_max_message_size
    loop = asyncio.get_running_loop()
    paced = False  # logged once per connection
    with structlog.contextvars.bound_contextvars(
        computer_id=connection.computer_id, account_id=connection.account_id
    ):
        while True:
            try:
                text = await _receive(connection.websocket, max_size)
            except (_Gone, WebSocketDisconnect, RuntimeError):
                return
            except _TooBig:
                await connection.close(CLOSE_TOO_BIG, "message too big")
                return
            wait = connection.pace(ports.settings.agent_rate, loop.time())
            if wait:
                if not paced:
                    log.info("agent_paced", rate=str(ports.settings.agent_rate))
                paced = True
                await asyncio.sleep(wait)
            try:
                if not await _on_message(connection, ports, text):
                    return
            except WebSocketDisconnect:
                return  # it left while being answered
            except DependencyUnavailable as exc:
                # What the agent said was not recorded: it says it again on its next
                # connection (a job's outcome from its journal), once the database is back.
                close = _come_back_later(exc)
                await connection.close(close.code, close.reason)
                return


async def _on_message(connection: AgentConnection, ports: AgentPorts, text: str) -> bool:
    """Act on one message; False once the socket is closed. A function of its own so
    that the message is not kept alive while the socket waits for the next."""
    received = connection.session.receive(text)
    if received.reply:
        await connection.send(received.reply)
    if received.close:
        await connection.close(received.close.code, received.close.reason)
        return False
    if isinstance(received.message, Printers):
        await _on_printers(connection, ports, received.message)
    elif isinstance(received.message, JobStateReport):
        await _on_job_state(connection, ports, received.message)
    return True


async def _on_printers(connection: AgentConnection, ports: AgentPorts, message: Printers) -> None:
    async def report(db: AsyncSession) -> presence.PrintersRecorded | None:
        return await presence.report_printers(
            db, connection.computer_id, connection.account_id, message.printers
        )

    recorded = await ports.transactions.run(report)
    if recorded is None:  # removed through the API while connected
        await connection.send(connection.session.error("This computer was removed"))
        return
    if recorded.refused:
        await connection.send(
            connection.session.error(
                f"{len(recorded.refused)} new printers were not recorded: a computer keeps at"
                f" most {presence.MAX_PRINTERS_PER_COMPUTER}, and those it has wait for jobs"
                " (remove the computer to start afresh)"
            )
        )
    first = not connection.session.printers_answered
    await connection.send(connection.session.printers_ok(recorded.count))
    if first:  # jobs may go now, in the original's order
        await ports.dispatcher.deliver(connection.computer_id)
        connection.ticket.release(completed=True)


async def _on_job_state(
    connection: AgentConnection, ports: AgentPorts, report: JobStateReport
) -> None:
    async def apply(db: AsyncSession) -> bool:
        job = await jobs.job_of_computer(
            db, connection.account_id, connection.computer_id, report.job_id
        )
        if job is None:
            return False
        state = JobState(report.state)
        message = report.message or _DEFAULT_MESSAGES[state].format(connection.computer_name)
        await move_job(db, job, state, message)
        return True

    # Committed with the other agents' reports that arrive meanwhile (group commit);
    # this socket's next message waits for it, so a computer's reports keep their order.
    applied = await ports.transactions.run(apply)
    if not applied or report.state in FINAL_STATES:
        connection.answered(report.job_id)
    if not applied:
        if count := connection.worth_logging():
            log.warning("job_state_refused", job_id=report.job_id, count=count)
        await connection.send(connection.session.error(f"Unknown job {report.job_id}"))
