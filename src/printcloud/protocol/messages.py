"""Every message of the agent WebSocket protocol, as typed models.

JSON text frames with a ``type``. Unknown fields are ignored (a newer agent or
server may send more); an unknown ``type`` is not an error in parsing, it is a
message the receiver answers with ``{"type": "error", ...}``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from printcloud.protocol.job_states import AGENT_REPORTS, JobState
from printcloud.protocol.nul import refuse_nul
from printcloud.protocol.presence import PrinterState

MAX_NAME_LENGTH = 200
MAX_PRINTERS = 500
MAX_FEATURES = 20


class Feature(StrEnum):
    """[ext] What a client may announce in ``auth``; ``auth_ok`` answers with those the
    server accepted. A client that announces nothing gets the original document's
    behaviour to the letter."""

    # At least once: a job whose outcome never arrived is sent again on the next
    # connection, and the client's journal answers one it already finished. Without it,
    # a job written to a connection is never sent again (at most once).
    RESUME = "resume"
    # ``*_uri`` jobs arrive as URIs and the client downloads them. Without it the server
    # downloads the document and sends it as ``*_base64``.
    FETCH = "fetch"
    # ``cancel_job`` when a job already sent is deleted.
    CANCEL = "cancel"


_FEATURE_NAMES = frozenset(str(f) for f in Feature)


class _Message(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


# client -> server


class _FromClient(_Message):
    """What the server reads: text with NUL anywhere is refused, naming where
    (:mod:`printcloud.protocol.nul`), as the REST API's bodies are."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return refuse_nul(data)


class Auth(_FromClient):
    type: Literal["auth"] = "auth"
    api_key: str = Field(min_length=1, max_length=200)
    computer_name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    os: str = Field(default="", max_length=100)
    client_version: str = Field(default="", max_length=50)
    # [ext] Plain strings: a newer client's feature is ignored, not refused.
    features: list[str] | None = Field(default=None, max_length=MAX_FEATURES)
    # [ext] A stable id of the machine: with it, the computer is (account, machine id),
    # and two machines with one name are two computers.
    machine_id: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)

    def known_features(self) -> frozenset[Feature]:
        """The announced features this protocol knows; the others are ignored."""
        return frozenset(Feature(f) for f in self.features or () if f in _FEATURE_NAMES)


class PrinterInfo(_Message):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    capabilities: dict[str, Any] = Field(default_factory=dict)
    is_default: bool = False
    # [ext] A printer the agent sees but that cannot print now (a stopped or rejecting
    # queue) is reported "offline"; absent, as from the original's clients, it is online.
    state: PrinterState | None = None


class Printers(_FromClient):
    type: Literal["printers"] = "printers"
    printers: list[PrinterInfo] = Field(max_length=MAX_PRINTERS)


class JobStateReport(_FromClient):
    type: Literal["job_state"] = "job_state"
    job_id: str = Field(min_length=1, max_length=40)
    state: JobState
    message: str = Field(default="", max_length=2000)

    @field_validator("state")
    @classmethod
    def _reportable(cls, value: JobState) -> JobState:
        if value not in AGENT_REPORTS:
            allowed = ", ".join(f"'{s}'" for s in AGENT_REPORTS)
            raise ValueError(f"an agent reports {allowed}, not '{value}'")
        return value


# server -> client


class AuthOk(_Message):
    type: Literal["auth_ok"] = "auth_ok"
    computer_id: str
    # [ext] The features the server accepted; absent when the client announced none.
    features: list[str] | None = None


class AuthRefusal(StrEnum):
    """[ext] Why a connection was refused, for the client's code: ``auth_error``'s
    ``reason``. The ``message`` beside it is for people."""

    INVALID_KEY = "invalid_key"
    KEY_REVOKED = "key_revoked"
    PERMISSION_DENIED = "permission_denied"  # the key may not connect a computer
    TOO_MANY_COMPUTERS = "too_many_computers"
    BAD_AUTH = "bad_auth"  # no auth first, or an auth message that is not valid
    AUTH_TIMEOUT = "auth_timeout"
    TRY_AGAIN = "try_again"  # the server could not register the computer this time


# Reconnecting with the same key cannot help: a person has to give the agent another.
FATAL_REFUSALS = frozenset(
    {AuthRefusal.INVALID_KEY, AuthRefusal.KEY_REVOKED, AuthRefusal.PERMISSION_DENIED}
)


class AuthError(_Message):
    type: Literal["auth_error"] = "auth_error"
    message: str
    # A plain string, not the enum: a newer server's reason must not make the message
    # unreadable to an older agent.
    reason: str | None = None

    @property
    def fatal(self) -> bool:
        return self.reason in FATAL_REFUSALS


class PrintersOk(_Message):
    type: Literal["printers_ok"] = "printers_ok"
    count: int


class JobPayload(_Message):
    id: str
    printer_name: str
    content_type: str
    content: str
    title: str
    options: dict[str, Any] = Field(default_factory=dict)
    qty: int = 1


class PrintJob(_Message):
    type: Literal["print_job"] = "print_job"
    job: JobPayload


class CancelJob(_Message):
    """[ext] The job was deleted: drop it, or cancel it if it is printing (best effort).
    Sent only to a client that announced ``cancel``."""

    type: Literal["cancel_job"] = "cancel_job"
    job_id: str


# either way


class Error(_Message):
    """The answer to a message that could not be acted on; the connection stays open."""

    type: Literal["error"] = "error"
    message: str


ClientMessage = Annotated[Auth | Printers | JobStateReport, Field(discriminator="type")]
ServerMessage = Annotated[
    AuthOk | AuthError | PrintersOk | PrintJob | CancelJob | Error, Field(discriminator="type")
]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
_server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)

CLIENT_TYPES = frozenset({"auth", "printers", "job_state"})
SERVER_TYPES = frozenset(
    {"auth_ok", "auth_error", "printers_ok", "print_job", "cancel_job", "error"}
)


class MalformedMessage(ValueError):
    """Not a JSON object with a string ``type``: the peer does not speak the protocol."""


class InvalidMessage(ValueError):
    """A known or unknown ``type`` whose content cannot be acted on; answered, not fatal."""

    def __init__(self, message: str, message_type: str) -> None:
        super().__init__(message)
        self.message_type = message_type


def _decode(text: str | bytes) -> dict[str, Any]:
    try:
        # Only UTF-8 (RFC 8259); json.loads would also guess UTF-16/32 for bytes.
        data = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedMessage(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedMessage('a message must be a JSON object with a "type"')
    return data


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(p) for p in error["loc"][1:] if p != "type")
        # A rule of the whole message (NUL anywhere) names its field in its text.
        parts.append(f"{loc}: {error['msg']}" if loc else error["msg"])
    return "; ".join(parts)


def _parse(text: str | bytes, adapter: TypeAdapter[Any], known: frozenset[str]) -> Any:
    data = _decode(text)
    kind = data["type"]
    if kind not in known:
        raise InvalidMessage(f"unknown message type {kind!r}", kind)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid {kind} message: {_describe(exc)}", kind) from None


def parse_client_message(text: str | bytes) -> Auth | Printers | JobStateReport:
    """What the server reads. Raises MalformedMessage or InvalidMessage."""
    message: Auth | Printers | JobStateReport = _parse(text, _client_adapter, CLIENT_TYPES)
    return message


ServerMessages = AuthOk | AuthError | PrintersOk | PrintJob | CancelJob | Error


def parse_server_message(text: str | bytes) -> ServerMessages:
    """What the agent reads. Raises MalformedMessage or InvalidMessage."""
    message: ServerMessages = _parse(text, _server_adapter, SERVER_TYPES)
    return message
