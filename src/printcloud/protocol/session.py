"""The two ends of a connection as state machines, without I/O.

The server's socket handler and the agent's connection loop feed received text
in and send the text these objects give back; every rule of the conversation
(authenticate first, nothing before ``auth_ok``, what closes the connection and
what is only answered with an error) lives here, where tests drive it with
strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import (
    Auth,
    AuthError,
    AuthOk,
    AuthRefusal,
    CancelJob,
    Error,
    Feature,
    InvalidMessage,
    JobPayload,
    JobStateReport,
    MalformedMessage,
    PrinterInfo,
    Printers,
    PrintersOk,
    PrintJob,
    ServerMessages,
    parse_client_message,
    parse_server_message,
)

# WebSocket close codes (RFC 6455 section 7.4.1) and ours, in the 4000 range.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_INVALID_DATA = 1007  # not JSON, or not a protocol message
CLOSE_POLICY = 1008  # authentication failed or timed out
CLOSE_TOO_BIG = 1009
CLOSE_REPLACED = 4000  # another connection for the same computer took over
CLOSE_REMOVED = 4001  # the computer was removed from its account
CLOSE_KEY_REVOKED = 4002  # [ext] the API key the connection authenticated with was revoked


class ProtocolError(RuntimeError):
    """This side was asked to do something the protocol does not allow now."""


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


class ServerPhase(StrEnum):
    AWAITING_AUTH = "awaiting_auth"
    AUTHENTICATING = "authenticating"  # auth received; the server is checking it
    READY = "ready"
    CLOSED = "closed"


@dataclass(frozen=True)
class Received:
    """What one received text means for the server.

    ``message`` is to be acted on; ``reply`` is text to send back at once; ``close``
    says to close the connection after sending the reply.
    """

    message: Auth | Printers | JobStateReport | None = None
    reply: str | None = None
    close: Close | None = None


class ServerSession:
    def __init__(self) -> None:
        self.phase = ServerPhase.AWAITING_AUTH
        # What the client announced and the server accepted; empty for a client written
        # from the original document, which gets its behaviour to the letter.
        self.features: frozenset[Feature] = frozenset()
        # The original's order: auth, auth_ok, printers, printers_ok, and only then jobs.
        self.printers_answered = False

    def _closing(self, reply: str | None, close: Close) -> Received:
        self.phase = ServerPhase.CLOSED
        return Received(reply=reply, close=close)

    def receive(self, text: str | bytes) -> Received:
        if self.phase in (ServerPhase.CLOSED, ServerPhase.AUTHENTICATING):
            raise ProtocolError(f"nothing can be received while {self.phase}")
        try:
            message = parse_client_message(text)
        except MalformedMessage as exc:
            return self._closing(None, Close(CLOSE_INVALID_DATA, str(exc)[:120]))
        except InvalidMessage as exc:
            return self._invalid(exc)
        if self.phase is ServerPhase.AWAITING_AUTH:
            if not isinstance(message, Auth):
                reason = "authenticate first: the first message must be auth"
                refusal = AuthError(message=reason, reason=AuthRefusal.BAD_AUTH)
                return self._closing(refusal.dump(), Close(CLOSE_POLICY, "authenticate first"))
            self.phase = ServerPhase.AUTHENTICATING
            return Received(message=message)
        if isinstance(message, Auth):
            return Received(reply=Error(message="already authenticated").dump())
        return Received(message=message)

    def _invalid(self, exc: InvalidMessage) -> Received:
        if self.phase is ServerPhase.AWAITING_AUTH:
            reason = str(exc) if exc.message_type == "auth" else "authenticate first"
            refusal = AuthError(message=reason, reason=AuthRefusal.BAD_AUTH)
            return self._closing(refusal.dump(), Close(CLOSE_POLICY, reason[:120]))
        return Received(reply=Error(message=str(exc)).dump())

    def accept(self, computer_id: str, auth: Auth | None = None) -> str:
        """``auth_ok``, with the features of ``auth`` that the server takes up (only when
        the client announced any)."""
        self._require(ServerPhase.AUTHENTICATING)
        self.phase = ServerPhase.READY
        self.features = auth.known_features() if auth else frozenset()
        answered = sorted(self.features) if auth and auth.features is not None else None
        return AuthOk(computer_id=computer_id, features=answered).dump()

    def reject(self, reason: str, refusal: AuthRefusal) -> tuple[str, Close]:
        """Refuse the connection, during authentication or because time ran out:
        ``reason`` for people, ``refusal`` for the client's code."""
        if self.phase not in (ServerPhase.AWAITING_AUTH, ServerPhase.AUTHENTICATING):
            raise ProtocolError(f"cannot reject a connection that is {self.phase}")
        self.phase = ServerPhase.CLOSED
        text = AuthError(message=reason, reason=refusal).dump()
        return text, Close(CLOSE_POLICY, reason[:120])

    def printers_ok(self, count: int) -> str:
        self._require(ServerPhase.READY)
        self.printers_answered = True
        return PrintersOk(count=count).dump()

    @property
    def ready_for_jobs(self) -> bool:
        return self.phase is ServerPhase.READY and self.printers_answered

    def print_job(self, job: JobPayload) -> str:
        self._require(ServerPhase.READY)
        if not self.printers_answered:
            raise ProtocolError("no print_job before the client's printers were answered")
        return PrintJob(job=job).dump()

    def cancel_job(self, job_id: str) -> str:
        self._require(ServerPhase.READY)
        if Feature.CANCEL not in self.features:
            raise ProtocolError("the client did not announce cancel")
        return CancelJob(job_id=job_id).dump()

    def error(self, message: str) -> str:
        self._require(ServerPhase.READY)
        return Error(message=message).dump()

    def close(self) -> None:
        self.phase = ServerPhase.CLOSED

    def _require(self, phase: ServerPhase) -> None:
        if self.phase is not phase:
            raise ProtocolError(f"the connection is {self.phase}, not {phase}")


class ClientPhase(StrEnum):
    NEW = "new"
    AUTH_SENT = "auth_sent"
    READY = "ready"
    CLOSED = "closed"


class ClientSession:
    """The agent's end: ``auth`` first, then ``printers`` and ``job_state`` at any time."""

    def __init__(self) -> None:
        self.phase = ClientPhase.NEW
        self.computer_id: str | None = None
        # What the server accepted of what ``auth`` announced.
        self.features: frozenset[Feature] = frozenset()

    def auth(
        self,
        *,
        api_key: str,
        computer_name: str,
        os: str = "",
        client_version: str = "",
        features: frozenset[Feature] = frozenset(),
        machine_id: str | None = None,
    ) -> str:
        self._require(ClientPhase.NEW)
        text = Auth(
            api_key=api_key,
            computer_name=computer_name,
            os=os,
            client_version=client_version,
            features=sorted(features) or None,
            machine_id=machine_id,
        ).dump()
        self.phase = ClientPhase.AUTH_SENT
        return text

    def receive(self, text: str | bytes) -> ServerMessages:
        """Parse a server message and advance. Raises MalformedMessage, InvalidMessage
        (an unknown type from a newer server: log it and go on) or ProtocolError."""
        if self.phase in (ClientPhase.NEW, ClientPhase.CLOSED):
            raise ProtocolError(f"nothing can be received while {self.phase}")
        message = parse_server_message(text)
        if self.phase is ClientPhase.AUTH_SENT:
            if isinstance(message, AuthOk):
                self.phase = ClientPhase.READY
                self.computer_id = message.computer_id
                self.features = frozenset(
                    Feature(f) for f in message.features or () if f in set(Feature)
                )
            elif isinstance(message, AuthError):
                self.phase = ClientPhase.CLOSED
            elif not isinstance(message, Error):
                raise ProtocolError(f"{message.type} before auth_ok")
        elif isinstance(message, AuthOk | AuthError):
            raise ProtocolError(f"{message.type} after authentication")
        return message

    def printers(self, printers: list[PrinterInfo] | list[dict[str, Any]]) -> str:
        self._require(ClientPhase.READY)
        return Printers.model_validate({"printers": printers}).dump()

    def job_state(self, job_id: str, state: JobState, message: str = "") -> str:
        self._require(ClientPhase.READY)
        return JobStateReport.model_validate(
            {"job_id": job_id, "state": state, "message": message}
        ).dump()

    def close(self) -> None:
        self.phase = ClientPhase.CLOSED

    def _require(self, phase: ClientPhase) -> None:
        if self.phase is not phase:
            raise ProtocolError(f"the connection is {self.phase}, not {phase}")
