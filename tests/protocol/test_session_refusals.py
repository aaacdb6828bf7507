"""What each end of the conversation says when it refuses: the exact refusal, its
machine-readable reason, a close reason that fits a WebSocket close frame, and a
ProtocolError that names the phase it was raised in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from printcloud.protocol.messages import AuthRefusal, JobPayload
from printcloud.protocol.session import (
    CLOSE_INVALID_DATA,
    CLOSE_POLICY,
    ClientSession,
    Close,
    ProtocolError,
    ServerSession,
)

AUTH = '{"type":"auth","apiKey":"pk_live_...","computerName":"Office-PC"}'
PRINTERS = '{"type":"printers","printers":[]}'
AUTH_OK = '{"type":"auth_ok","computerId":"cmp_123"}'
AUTH_ERROR = '{"type":"auth_error","message":"Invalid API key","reason":"invalid_key"}'
PRINTERS_OK = '{"type":"printers_ok","count":0}'
# Three problems at once: a reason longer than a WebSocket close frame may carry.
LONG_INVALID_AUTH = json.dumps(
    {"type": "auth", "apiKey": "", "computerName": "", "os": "x" * 101, "clientVersion": 7}
)


def _json(text: str | None) -> dict[str, Any]:
    assert text is not None
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def _client(*received: str) -> ClientSession:
    client = ClientSession()
    client.auth(api_key="pk_live_...", computer_name="Office-PC")
    for text in received:
        client.receive(text)
    return client


def test_a_first_message_other_than_auth_is_refused_as_bad_auth() -> None:
    received = ServerSession().receive(PRINTERS)

    assert _json(received.reply) == {
        "type": "auth_error",
        "message": "authenticate first: the first message must be auth",
        "reason": "bad_auth",
    }
    assert received.close == Close(CLOSE_POLICY, "authenticate first")


def test_an_invalid_auth_is_refused_as_bad_auth_with_a_close_reason_cut_to_120() -> None:
    received = ServerSession().receive(LONG_INVALID_AUTH)

    refusal = _json(received.reply)
    assert refusal["reason"] == "bad_auth"
    assert refusal["message"].startswith("invalid auth message: ")
    assert len(refusal["message"]) > 120  # people get all of it
    assert received.close == Close(CLOSE_POLICY, refusal["message"][:120])


def test_an_invalid_message_of_another_type_before_auth_is_refused_as_bad_auth() -> None:
    received = ServerSession().receive('{"type":"printers","printers":7}')

    assert _json(received.reply) == {
        "type": "auth_error",
        "message": "authenticate first",
        "reason": "bad_auth",
    }
    assert received.close == Close(CLOSE_POLICY, "authenticate first")


def test_malformed_data_closes_with_the_parsers_reason() -> None:
    received = ServerSession().receive(b"\xff")

    assert received.reply is None
    assert received.close is not None
    assert received.close.code == CLOSE_INVALID_DATA
    assert received.close.reason.startswith("malformed JSON: 'utf-8' codec can't decode")


def test_a_closed_server_names_its_phase_when_given_text() -> None:
    server = ServerSession()
    server.close()
    with pytest.raises(ProtocolError, match=r"^nothing can be received while closed$"):
        server.receive(AUTH)


def test_an_authenticating_server_names_its_phase_when_given_text() -> None:
    server = ServerSession()
    server.receive(AUTH)
    with pytest.raises(ProtocolError, match=r"^nothing can be received while authenticating$"):
        server.receive(PRINTERS)


def test_a_ready_connection_cannot_be_rejected_and_says_so() -> None:
    server = ServerSession()
    server.receive(AUTH)
    server.accept("cmp_123")
    with pytest.raises(ProtocolError, match=r"^cannot reject a connection that is ready$"):
        server.reject("too late", AuthRefusal.AUTH_TIMEOUT)


def test_the_server_names_the_phase_it_is_in_and_the_one_needed() -> None:
    server = ServerSession()
    with pytest.raises(ProtocolError, match=r"^the connection is awaiting_auth, not ready$"):
        server.printers_ok(1)
    with pytest.raises(ProtocolError, match=r"^the connection is awaiting_auth, not ready$"):
        server.print_job(
            JobPayload(
                id="pj_1",
                printer_name="P",
                content_type="raw_base64",
                content="eA==",
                title="t",
                options={},
                qty=1,
            )
        )
    with pytest.raises(
        ProtocolError, match=r"^the connection is awaiting_auth, not authenticating"
    ):
        server.accept("cmp_123")


def test_a_client_names_its_phase_when_given_text_too_early_or_too_late() -> None:
    with pytest.raises(ProtocolError, match=r"^nothing can be received while new$"):
        ClientSession().receive(AUTH_OK)
    with pytest.raises(ProtocolError, match=r"^nothing can be received while closed$"):
        _client(AUTH_ERROR).receive(AUTH_OK)


def test_a_client_names_the_message_that_came_before_auth_ok() -> None:
    with pytest.raises(ProtocolError, match=r"^printers_ok before auth_ok$"):
        _client().receive(PRINTERS_OK)


def test_a_client_names_the_auth_answer_that_came_after_authentication() -> None:
    with pytest.raises(ProtocolError, match=r"^auth_ok after authentication$"):
        _client(AUTH_OK).receive(AUTH_OK)
    with pytest.raises(ProtocolError, match=r"^auth_error after authentication$"):
        _client(AUTH_OK).receive(AUTH_ERROR)


def test_the_client_names_the_phase_it_is_in_and_the_one_needed() -> None:
    with pytest.raises(ProtocolError, match=r"^the connection is new, not ready$"):
        ClientSession().printers([])
    with pytest.raises(ProtocolError, match=r"^the connection is auth_sent, not new$"):
        _client().auth(api_key="pk_live_...", computer_name="Office-PC")
