"""[ext] What a client announces, what the server accepts, and the original's order."""

from __future__ import annotations

import json

import pytest

from printcloud.protocol.messages import (
    Auth,
    AuthOk,
    CancelJob,
    Feature,
    JobPayload,
    parse_client_message,
)
from printcloud.protocol.session import ClientSession, ProtocolError, ServerSession

JOB = JobPayload(
    id="pj_1", printer_name="HP", content_type="pdf_base64", content="JVBERi0=", title="t"
)
DOCUMENT_AUTH = '{"type":"auth","apiKey":"pk_live_x","computerName":"Office-PC"}'


def authenticated(text: str) -> tuple[ServerSession, dict[str, object]]:
    server = ServerSession()
    received = server.receive(text)
    assert isinstance(received.message, Auth)
    return server, json.loads(server.accept("cmp_1", received.message))


def test_a_client_that_announces_nothing_gets_the_original_auth_ok() -> None:
    server, auth_ok = authenticated(DOCUMENT_AUTH)
    assert auth_ok == {"type": "auth_ok", "computerId": "cmp_1"}
    assert server.features == frozenset()


def test_the_server_accepts_the_features_it_knows_and_ignores_a_newer_one() -> None:
    text = json.dumps(
        {
            "type": "auth",
            "apiKey": "pk_live_x",
            "computerName": "Office-PC",
            "features": ["resume", "teleport", "cancel"],
            "machineId": "m-1",
        }
    )
    server, auth_ok = authenticated(text)
    assert auth_ok == {"type": "auth_ok", "computerId": "cmp_1", "features": ["cancel", "resume"]}
    assert server.features == {Feature.RESUME, Feature.CANCEL}
    auth = parse_client_message(text)
    assert isinstance(auth, Auth)
    assert auth.machine_id == "m-1"


def test_announcing_an_empty_list_is_answered_with_an_empty_list() -> None:
    text = '{"type":"auth","apiKey":"pk_live_x","computerName":"PC","features":[]}'
    assert authenticated(text)[1] == {"type": "auth_ok", "computerId": "cmp_1", "features": []}


def test_no_print_job_before_the_clients_printers_were_answered() -> None:
    server, _ = authenticated(DOCUMENT_AUTH)
    assert not server.ready_for_jobs
    with pytest.raises(ProtocolError, match="printers"):
        server.print_job(JOB)
    server.receive('{"type":"printers","printers":[]}')
    server.printers_ok(0)
    assert server.ready_for_jobs
    assert json.loads(server.print_job(JOB))["type"] == "print_job"


def test_cancel_job_goes_only_to_a_client_that_announced_cancel() -> None:
    plain, _ = authenticated(DOCUMENT_AUTH)
    with pytest.raises(ProtocolError, match="cancel"):
        plain.cancel_job("pj_1")
    text = '{"type":"auth","apiKey":"pk_live_x","computerName":"PC","features":["cancel"]}'
    cancelling, _ = authenticated(text)
    assert json.loads(cancelling.cancel_job("pj_1")) == {"type": "cancel_job", "jobId": "pj_1"}


def test_the_client_announces_features_and_a_machine_id_and_learns_what_was_accepted() -> None:
    client = ClientSession()
    sent = json.loads(
        client.auth(
            api_key="pk_live_x",
            computer_name="PC",
            features=frozenset({Feature.FETCH, Feature.RESUME}),
            machine_id="m-1",
        )
    )
    assert sent["features"] == ["fetch", "resume"]
    assert sent["machineId"] == "m-1"
    answer = client.receive('{"type":"auth_ok","computerId":"cmp_1","features":["resume"]}')
    assert answer == AuthOk(computer_id="cmp_1", features=["resume"])
    assert client.features == {Feature.RESUME}
    assert client.receive('{"type":"cancel_job","jobId":"pj_1"}') == CancelJob(job_id="pj_1")


def test_a_client_without_features_sends_the_originals_auth() -> None:
    sent = json.loads(ClientSession().auth(api_key="pk_live_x", computer_name="PC"))
    assert sent == {
        "type": "auth",
        "apiKey": "pk_live_x",
        "computerName": "PC",
        "os": "",
        "clientVersion": "",
    }
