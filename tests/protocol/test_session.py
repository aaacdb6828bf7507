from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import (
    Auth,
    AuthError,
    AuthOk,
    AuthRefusal,
    Error,
    InvalidMessage,
    JobPayload,
    JobStateReport,
    MalformedMessage,
    PrinterInfo,
    Printers,
    PrintersOk,
    PrintJob,
)
from printcloud.protocol.session import (
    CLOSE_INVALID_DATA,
    CLOSE_POLICY,
    ClientPhase,
    ClientSession,
    Close,
    ProtocolError,
    Received,
    ServerPhase,
    ServerSession,
)

AUTH = (
    '{"type":"auth","apiKey":"pk_live_...","computerName":"Office-PC",'
    '"os":"Windows","clientVersion":"1.0.0"}'
)
PRINTERS = (
    '{"type":"printers","printers":[{"name":"HP LaserJet Pro",'
    '"capabilities":{"color":true,"duplex":true},"isDefault":true}]}'
)
JOB_STATE = (
    '{"type":"job_state","jobId":"pj_xxx","state":"completed","message":"Printed to HP LaserJet"}'
)
AUTH_OK = '{"type":"auth_ok","computerId":"cmp_123"}'
AUTH_ERROR = '{"type":"auth_error","message":"Invalid API key","reason":"invalid_key"}'
PRINTERS_OK = '{"type":"printers_ok","count":1}'
PRINT_JOB = (
    '{"type":"print_job","job":{"id":"pj_xxx","printerName":"HP LaserJet",'
    '"contentType":"pdf_base64","content":"JVBERi0xLjQ...","title":"Invoice #456",'
    '"options":{"copies":2},"qty":1}}'
)
JOB = JobPayload(
    id="pj_xxx",
    printer_name="HP LaserJet",
    content_type="pdf_base64",
    content="JVBERi0xLjQ...",
    title="Invoice #456",
    options={"copies": 2},
    qty=1,
)

MALFORMED = [
    "not json",
    "",
    '{"type":"printers"',
    '[{"type":"auth"}]',
    "null",
    '{"apiKey":"pk_live_..."}',
    '{"type":7}',
    b"\xff\xfe\xfd",
]
MakeServer = Callable[[], ServerSession]
MakeClient = Callable[[], ClientSession]


def loads(text: str | None) -> dict[str, Any]:
    assert text is not None
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def ready_server() -> ServerSession:
    server = ServerSession()
    server.receive(AUTH)
    server.accept("cmp_123")
    assert server.phase is ServerPhase.READY
    return server


def authenticating_server() -> ServerSession:
    server = ServerSession()
    server.receive(AUTH)
    assert server.phase is ServerPhase.AUTHENTICATING
    return server


def closed_server() -> ServerSession:
    server = ServerSession()
    server.receive("not json")
    assert server.phase is ServerPhase.CLOSED
    return server


def ready_client() -> ClientSession:
    client = ClientSession()
    client.auth(api_key="pk_live_...", computer_name="Office-PC")
    client.receive(AUTH_OK)
    assert client.phase is ClientPhase.READY
    return client


def auth_sent_client() -> ClientSession:
    client = ClientSession()
    client.auth(api_key="pk_live_...", computer_name="Office-PC")
    return client


def closed_client() -> ClientSession:
    client = auth_sent_client()
    client.receive(AUTH_ERROR)
    assert client.phase is ClientPhase.CLOSED
    return client


# ServerSession: the conversation


def test_sessions_start_waiting_for_auth() -> None:
    assert ServerSession().phase is ServerPhase.AWAITING_AUTH
    client = ClientSession()
    assert client.phase is ClientPhase.NEW
    assert client.computer_id is None


def test_server_walks_through_a_whole_conversation() -> None:
    server = ServerSession()
    received = server.receive(AUTH)
    assert received == Received(
        message=Auth(
            api_key="pk_live_...",
            computer_name="Office-PC",
            os="Windows",
            client_version="1.0.0",
        )
    )
    # AUTHENTICATING now (see authenticating_server): the server checks the key, then accepts
    assert loads(server.accept("cmp_123")) == {"type": "auth_ok", "computerId": "cmp_123"}
    assert server.phase is ServerPhase.READY

    received = server.receive(PRINTERS)
    assert (received.reply, received.close) == (None, None)
    assert isinstance(received.message, Printers)
    assert received.message.printers[0].name == "HP LaserJet Pro"
    assert received.message.printers[0].is_default is True
    assert loads(server.printers_ok(len(received.message.printers))) == json.loads(PRINTERS_OK)

    assert loads(server.print_job(JOB)) == json.loads(PRINT_JOB)

    received = server.receive(JOB_STATE)
    assert received == Received(
        message=JobStateReport(job_id="pj_xxx", state="completed", message="Printed to HP LaserJet")
    )

    assert loads(server.error("job pj_nope is not yours")) == {
        "type": "error",
        "message": "job pj_nope is not yours",
    }
    assert server.phase is ServerPhase.READY

    server.close()
    with pytest.raises(ProtocolError):
        server.print_job(JOB)


def test_printers_and_job_state_may_come_in_any_order_and_number_after_auth() -> None:
    server = ready_server()
    for text in [JOB_STATE, PRINTERS, JOB_STATE, JOB_STATE, PRINTERS]:
        received = server.receive(text)
        assert received.message is not None
        assert (received.reply, received.close) == (None, None)
    assert server.phase is ServerPhase.READY


def test_server_accepts_bytes_as_well_as_text() -> None:
    server = ServerSession()
    assert isinstance(server.receive(AUTH.encode()).message, Auth)


# ServerSession: authentication first


@pytest.mark.parametrize(
    "text",
    [
        PRINTERS,
        JOB_STATE,
        '{"type":"printers"}',  # an invalid printers message is still not auth
        '{"type":"hello","version":2}',  # an unknown type is still not auth
        AUTH_OK,  # a server message sent to the server
    ],
)
def test_first_message_other_than_auth_closes_with_policy_violation(text: str) -> None:
    server = ServerSession()
    received = server.receive(text)
    assert received.message is None
    reply = loads(received.reply)
    assert reply["type"] == "auth_error"
    assert "authenticate first" in reply["message"]
    assert received.close == Close(CLOSE_POLICY, "authenticate first")
    assert server.phase is ServerPhase.CLOSED


@pytest.mark.parametrize(
    ("auth", "field"),
    [
        ({"type": "auth", "apiKey": "pk_live_..."}, "computerName"),
        ({"type": "auth", "computerName": "Office-PC"}, "apiKey"),
        ({"type": "auth", "apiKey": "", "computerName": "Office-PC"}, "apiKey"),
        ({"type": "auth", "apiKey": "pk_live_...", "computerName": "x" * 201}, "computerName"),
        ({"type": "auth", "apiKey": 12345, "computerName": "Office-PC"}, "apiKey"),
    ],
)
def test_invalid_auth_is_refused_with_auth_error_naming_the_problem_and_closed(
    auth: dict[str, Any], field: str
) -> None:
    server = ServerSession()
    received = server.receive(json.dumps(auth))
    assert received.message is None
    reply = loads(received.reply)
    assert reply["type"] == "auth_error"
    assert reply["message"].startswith("invalid auth message: ")
    assert f"{field}:" in reply["message"]
    assert received.close is not None
    assert received.close.code == CLOSE_POLICY
    assert field in received.close.reason
    assert server.phase is ServerPhase.CLOSED


# ServerSession: malformed text


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("phase", ["awaiting_auth", "ready"])
def test_malformed_text_closes_with_invalid_data_and_no_reply(
    phase: str, text: str | bytes
) -> None:
    server = ServerSession() if phase == "awaiting_auth" else ready_server()
    received = server.receive(text)
    assert received.message is None
    assert received.reply is None
    assert received.close is not None
    assert received.close.code == CLOSE_INVALID_DATA
    assert received.close.reason
    assert server.phase is ServerPhase.CLOSED


@pytest.mark.parametrize(
    "text",
    [
        '{"type": ' + '"' + "x" * 10_000 + '"',  # truncated JSON, long error text
        "[" * 5000,
        "é" * 1000,
    ],
)
def test_close_reason_fits_a_websocket_close_frame(text: str) -> None:
    received = ServerSession().receive(text)
    assert received.close is not None
    # RFC 6455: the reason of a close frame is at most 123 bytes of UTF-8
    assert len(received.close.reason.encode()) <= 123


# ServerSession: answered, not fatal


@pytest.mark.parametrize(
    ("text", "message_type"),
    [
        ('{"type":"shutdown"}', "shutdown"),
        ('{"type":"ping","at":12}', "ping"),
        (AUTH_OK, "auth_ok"),
        ('{"type":"\\ud800"}', "\ud800"),  # a lone surrogate must not break the reply
    ],
)
def test_unknown_type_after_auth_is_answered_with_an_error_and_session_stays_ready(
    text: str, message_type: str
) -> None:
    server = ready_server()
    received = server.receive(text)
    assert (received.message, received.close) == (None, None)
    reply = loads(received.reply)
    assert reply == {"type": "error", "message": f"unknown message type {message_type!r}"}
    assert server.phase is ServerPhase.READY
    assert isinstance(server.receive(PRINTERS).message, Printers)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"type":"job_state","jobId":"pj_xxx","state":"sent"}', "state"),
        ('{"type":"job_state","jobId":"pj_xxx","state":"expired"}', "state"),
        ('{"type":"job_state","state":"printing"}', "jobId"),
        ('{"type":"printers","printers":[{"isDefault":true}]}', "printers.0.name"),
        ('{"type":"printers"}', "printers"),
    ],
)
def test_invalid_message_after_auth_is_answered_with_an_error_naming_the_field(
    text: str, field: str
) -> None:
    server = ready_server()
    received = server.receive(text)
    assert (received.message, received.close) == (None, None)
    reply = loads(received.reply)
    assert reply["type"] == "error"
    assert f"{field}:" in reply["message"]
    assert server.phase is ServerPhase.READY


def test_second_auth_is_answered_already_authenticated_and_not_fatal() -> None:
    server = ready_server()
    received = server.receive(AUTH)
    assert (received.message, received.close) == (None, None)
    assert loads(received.reply) == {"type": "error", "message": "already authenticated"}
    assert server.phase is ServerPhase.READY
    assert isinstance(server.receive(JOB_STATE).message, JobStateReport)


# ServerSession: reject


def test_reject_while_authenticating_sends_auth_error_and_closes_with_policy() -> None:
    server = authenticating_server()
    reply, close = server.reject("Invalid API key", AuthRefusal.INVALID_KEY)
    assert loads(reply) == json.loads(AUTH_ERROR)
    assert close == Close(CLOSE_POLICY, "Invalid API key")
    assert server.phase is ServerPhase.CLOSED


def test_reject_on_auth_timeout_sends_auth_error_and_closes_with_policy() -> None:
    server = ServerSession()
    reply, close = server.reject("authentication timed out", AuthRefusal.AUTH_TIMEOUT)
    assert loads(reply) == {
        "type": "auth_error",
        "message": "authentication timed out",
        "reason": "auth_timeout",
    }
    assert close == Close(CLOSE_POLICY, "authentication timed out")
    assert server.phase is ServerPhase.CLOSED


def test_reject_keeps_the_whole_reason_in_the_reply_but_shortens_the_close_reason() -> None:
    reason = "Invalid API key: " + "k" * 300
    reply, close = authenticating_server().reject(reason, AuthRefusal.INVALID_KEY)
    assert loads(reply)["message"] == reason
    assert close.reason == reason[:120]


@pytest.mark.parametrize("make", [ready_server, closed_server])
def test_reject_after_authentication_or_close_is_a_protocol_error(make: MakeServer) -> None:
    server = make()
    phase = server.phase
    with pytest.raises(ProtocolError):
        server.reject("Invalid API key", AuthRefusal.INVALID_KEY)
    assert server.phase is phase


# ServerSession: what cannot be done now


SENDS: dict[str, Callable[[ServerSession], str]] = {
    "print_job": lambda server: server.print_job(JOB),
    "printers_ok": lambda server: server.printers_ok(1),
    "error": lambda server: server.error("nope"),
}


@pytest.mark.parametrize("make", [ServerSession, authenticating_server, closed_server])
@pytest.mark.parametrize("send", list(SENDS))
def test_server_cannot_send_before_ready(make: MakeServer, send: str) -> None:
    server = make()
    phase = server.phase
    with pytest.raises(ProtocolError):
        SENDS[send](server)
    assert server.phase is phase


@pytest.mark.parametrize("make", [ServerSession, ready_server, closed_server])
def test_accept_outside_authenticating_is_a_protocol_error(make: MakeServer) -> None:
    server = make()
    phase = server.phase
    with pytest.raises(ProtocolError):
        server.accept("cmp_123")
    assert server.phase is phase


@pytest.mark.parametrize("make", [authenticating_server, closed_server])
def test_server_cannot_receive_while_authenticating_or_closed(make: MakeServer) -> None:
    server = make()
    with pytest.raises(ProtocolError):
        server.receive(PRINTERS)


def test_server_cannot_receive_after_a_closing_answer() -> None:
    server = ServerSession()
    assert server.receive(PRINTERS).close is not None
    with pytest.raises(ProtocolError):
        server.receive(AUTH)


def test_server_cannot_receive_after_close() -> None:
    server = ready_server()
    server.close()
    assert server.phase is ServerPhase.CLOSED
    with pytest.raises(ProtocolError):
        server.receive(JOB_STATE)


# ClientSession


def test_client_auth_produces_the_contract_auth_message() -> None:
    client = ClientSession()
    text = client.auth(
        api_key="pk_live_...", computer_name="Office-PC", os="Windows", client_version="1.0.0"
    )
    assert loads(text) == json.loads(AUTH)
    assert client.phase is ClientPhase.AUTH_SENT
    assert client.computer_id is None


def test_client_auth_sends_empty_os_and_version_by_default() -> None:
    text = ClientSession().auth(api_key="pk_live_...", computer_name="Office-PC")
    assert loads(text) == {
        "type": "auth",
        "apiKey": "pk_live_...",
        "computerName": "Office-PC",
        "os": "",
        "clientVersion": "",
    }


def test_client_cannot_auth_twice() -> None:
    client = auth_sent_client()
    with pytest.raises(ProtocolError):
        client.auth(api_key="pk_live_...", computer_name="Office-PC")
    assert client.phase is ClientPhase.AUTH_SENT


def test_client_auth_with_invalid_arguments_sends_nothing_and_stays_new() -> None:
    client = ClientSession()
    with pytest.raises(ValidationError):
        client.auth(api_key="pk_live_...", computer_name="")
    assert client.phase is ClientPhase.NEW
    text = client.auth(api_key="pk_live_...", computer_name="Office-PC")
    assert loads(text)["computerName"] == "Office-PC"


def test_client_auth_ok_makes_it_ready_with_the_computer_id() -> None:
    client = auth_sent_client()
    message = client.receive(AUTH_OK)
    assert message == AuthOk(computer_id="cmp_123")
    assert client.phase is ClientPhase.READY
    assert client.computer_id == "cmp_123"


def test_client_auth_error_closes_it() -> None:
    client = auth_sent_client()
    message = client.receive(AUTH_ERROR)
    assert message == AuthError(message="Invalid API key", reason=AuthRefusal.INVALID_KEY)
    assert message.fatal
    assert client.phase is ClientPhase.CLOSED
    assert client.computer_id is None
    with pytest.raises(ProtocolError):
        client.receive(AUTH_OK)


def test_client_may_get_an_error_while_waiting_for_auth_ok() -> None:
    client = auth_sent_client()
    message = client.receive('{"type":"error","message":"slow down"}')
    assert message == Error(message="slow down")
    assert client.phase is ClientPhase.AUTH_SENT


@pytest.mark.parametrize("text", [PRINT_JOB, PRINTERS_OK])
def test_client_refuses_work_before_auth_ok(text: str) -> None:
    client = auth_sent_client()
    with pytest.raises(ProtocolError):
        client.receive(text)
    assert client.phase is ClientPhase.AUTH_SENT


def test_client_cannot_receive_before_sending_auth() -> None:
    client = ClientSession()
    with pytest.raises(ProtocolError):
        client.receive(AUTH_OK)
    assert client.phase is ClientPhase.NEW


@pytest.mark.parametrize("make", [ClientSession, auth_sent_client, closed_client])
def test_client_cannot_report_printers_or_job_state_before_ready(make: MakeClient) -> None:
    client = make()
    with pytest.raises(ProtocolError):
        client.printers([{"name": "HP LaserJet Pro"}])
    with pytest.raises(ProtocolError):
        client.job_state("pj_xxx", JobState.COMPLETED)


def test_ready_client_reports_printers_in_the_contract_form() -> None:
    client = ready_client()
    text = client.printers(
        [
            {
                "name": "HP LaserJet Pro",
                "capabilities": {"color": True, "duplex": True},
                "is_default": True,
            }
        ]
    )
    assert loads(text) == json.loads(PRINTERS)
    models = [
        PrinterInfo(
            name="HP LaserJet Pro", capabilities={"color": True, "duplex": True}, is_default=True
        )
    ]
    assert loads(client.printers(models)) == json.loads(PRINTERS)


def test_ready_client_reports_printers_with_defaults() -> None:
    text = ready_client().printers([{"name": "Brother HL"}])
    assert loads(text) == {
        "type": "printers",
        "printers": [{"name": "Brother HL", "capabilities": {}, "isDefault": False}],
    }


def test_ready_client_reports_job_state_in_the_contract_form() -> None:
    client = ready_client()
    assert loads(
        client.job_state("pj_xxx", JobState.COMPLETED, "Printed to HP LaserJet")
    ) == json.loads(JOB_STATE)
    assert loads(client.job_state("pj_xxx", JobState.PRINTING)) == {
        "type": "job_state",
        "jobId": "pj_xxx",
        "state": "printing",
        "message": "",
    }


@pytest.mark.parametrize("state", [JobState.SENT, JobState.PENDING, JobState.EXPIRED])
def test_client_will_not_report_states_the_server_decides(state: JobState) -> None:
    with pytest.raises(ValidationError):
        ready_client().job_state("pj_xxx", state)


def test_ready_client_receives_print_jobs_and_answers() -> None:
    client = ready_client()
    message = client.receive(PRINT_JOB)
    assert message == PrintJob(job=JOB)
    assert client.receive(PRINTERS_OK) == PrintersOk(count=1)
    assert client.receive('{"type":"error","message":"x"}') == Error(message="x")
    assert client.phase is ClientPhase.READY


@pytest.mark.parametrize("text", [AUTH_OK, AUTH_ERROR])
def test_client_refuses_auth_answers_after_ready(text: str) -> None:
    client = ready_client()
    with pytest.raises(ProtocolError):
        client.receive(text)
    assert client.phase is ClientPhase.READY
    assert client.computer_id == "cmp_123"


def test_client_raises_invalid_message_for_an_unknown_server_type_and_goes_on() -> None:
    client = ready_client()
    with pytest.raises(InvalidMessage) as caught:
        client.receive('{"type":"maintenance","until":"02:00"}')
    assert caught.value.message_type == "maintenance"
    assert client.phase is ClientPhase.READY
    assert isinstance(client.receive(PRINT_JOB), PrintJob)


def test_client_raises_malformed_message_for_text_that_is_not_the_protocol() -> None:
    client = ready_client()
    with pytest.raises(MalformedMessage):
        client.receive("<html>502 Bad Gateway</html>")


def test_client_close_stops_everything() -> None:
    client = ready_client()
    client.close()
    assert client.phase is ClientPhase.CLOSED
    with pytest.raises(ProtocolError):
        client.receive(PRINT_JOB)
    with pytest.raises(ProtocolError):
        client.job_state("pj_xxx", JobState.ERROR, "paper jam")


# Both ends, back to back


def test_client_and_server_hold_a_whole_conversation() -> None:
    client = ClientSession()
    server = ServerSession()

    received = server.receive(
        client.auth(
            api_key="pk_live_abc", computer_name="Office-PC", os="Windows", client_version="1.0.0"
        )
    )
    assert isinstance(received.message, Auth)
    assert (received.message.api_key, received.message.computer_name) == (
        "pk_live_abc",
        "Office-PC",
    )
    assert received.reply is None

    assert client.receive(server.accept("cmp_42")) == AuthOk(computer_id="cmp_42")
    assert client.computer_id == "cmp_42"

    reported: list[dict[str, Any]] = [{"name": "HP LaserJet Pro", "is_default": True}]
    reported.append({"name": "PDF"})
    received = server.receive(client.printers(reported))
    assert isinstance(received.message, Printers)
    assert [p.name for p in received.message.printers] == ["HP LaserJet Pro", "PDF"]
    assert client.receive(server.printers_ok(len(received.message.printers))) == PrintersOk(count=2)

    job = client.receive(server.print_job(JOB))
    assert isinstance(job, PrintJob)
    assert job.job == JOB

    for state, note in [(JobState.PRINTING, ""), (JobState.COMPLETED, "Printed to HP LaserJet")]:
        received = server.receive(client.job_state(job.job.id, state, note))
        assert received.message == JobStateReport(job_id="pj_xxx", state=state, message=note)
        assert (received.reply, received.close) == (None, None)

    # the client session will not send auth twice; an agent that did gets an error, not a close
    with pytest.raises(ProtocolError):
        client.auth(api_key="pk_live_abc", computer_name="Office-PC")
    received = server.receive(AUTH)
    assert received.close is None
    assert received.reply is not None
    assert client.receive(received.reply) == Error(message="already authenticated")
    assert (server.phase, client.phase) == (ServerPhase.READY, ClientPhase.READY)


@pytest.mark.parametrize(
    ("text", "fatal"),
    [
        ('{"type":"auth_error","message":"Invalid API key","reason":"key_revoked"}', True),
        ('{"type":"auth_error","message":"full","reason":"too_many_computers"}', False),
        # the original document's server gives no reason: the client decides nothing from
        # the English text, and keeps trying
        ('{"type":"auth_error","message":"Invalid API key"}', False),
        # a newer server's reason is read, not refused
        ('{"type":"auth_error","message":"later","reason":"maintenance"}', False),
    ],
)
def test_an_auth_error_is_fatal_by_its_reason_never_by_its_text(text: str, fatal: bool) -> None:
    message = auth_sent_client().receive(text)
    assert isinstance(message, AuthError)
    assert message.fatal is fatal
