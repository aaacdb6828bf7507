"""Every message of the agent WebSocket protocol, as typed models.

JSON text frames with a ``type``. Unknown fields are ignored (a newer agent or
server may send more); an unknown ``type`` is not an error in parsing, it is a
message the receiver answers with ``{"type": "error", ...}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

MAX_NAME_LENGTH = 200
MAX_PRINTERS = 500


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


class Auth(_Message):
    type: Literal["auth"] = "auth"
    api_key: str = Field(min_length=1, max_length=200)
    computer_name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    os: str = Field(default="", max_length=100)
    client_version: str = Field(default="", max_length=50)


class PrinterInfo(_Message):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    capabilities: dict[str, Any] = Field(default_factory=dict)
    is_default: bool = False
    # [ext] A printer the agent sees but that cannot print now (a stopped or rejecting
    # queue) is reported "offline"; absent, as from the original's clients, it is online.
    state: Literal["online", "offline"] | None = None


class Printers(_Message):
    type: Literal["printers"] = "printers"
    printers: list[PrinterInfo] = Field(max_length=MAX_PRINTERS)


class JobStateReport(_Message):
    type: Literal["job_state"] = "job_state"
    job_id: str = Field(min_length=1, max_length=40)
    # What an agent may report; the server decides the rest.
    state: Literal["printing", "completed", "error"]
    message: str = Field(default="", max_length=2000)


# server -> client


class AuthOk(_Message):
    type: Literal["auth_ok"] = "auth_ok"
    computer_id: str


class AuthError(_Message):
    type: Literal["auth_error"] = "auth_error"
    message: str


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


# either way


class Error(_Message):
    """The answer to a message that could not be acted on; the connection stays open."""

    type: Literal["error"] = "error"
    message: str


ClientMessage = Annotated[Auth | Printers | JobStateReport, Field(discriminator="type")]
ServerMessage = Annotated[
    AuthOk | AuthError | PrintersOk | PrintJob | Error, Field(discriminator="type")
]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
_server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)

CLIENT_TYPES = frozenset({"auth", "printers", "job_state"})
SERVER_TYPES = frozenset({"auth_ok", "auth_error", "printers_ok", "print_job", "error"})


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
        loc = ".".join(str(p) for p in error["loc"][1:] if p != "type") or "message"
        parts.append(f"{loc}: {error['msg']}")
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


def parse_server_message(text: str | bytes) -> AuthOk | AuthError | PrintersOk | PrintJob | Error:
    """What the agent reads. Raises MalformedMessage or InvalidMessage."""
    message: AuthOk | AuthError | PrintersOk | PrintJob | Error = _parse(
        text, _server_adapter, SERVER_TYPES
    )
    return message
