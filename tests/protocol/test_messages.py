from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from printcloud.protocol.messages import (
    MAX_NAME_LENGTH,
    MAX_PRINTERS,
    Auth,
    AuthError,
    AuthOk,
    Error,
    InvalidMessage,
    JobStateReport,
    MalformedMessage,
    PrinterInfo,
    Printers,
    PrintersOk,
    PrintJob,
    parse_client_message,
    parse_server_message,
)

Parser = Callable[[str | bytes], Any]

# The contract's messages, exactly as the public API doc writes them.
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
AUTH_ERROR = '{"type":"auth_error","message":"Invalid API key"}'
PRINTERS_OK = '{"type":"printers_ok","count":1}'
PRINT_JOB = (
    '{"type":"print_job","job":{"id":"pj_xxx","printerName":"HP LaserJet",'
    '"contentType":"pdf_base64","content":"JVBERi0xLjQ...","title":"Invoice #456",'
    '"options":{"copies":2},"qty":1}}'
)
ERROR = '{"type":"error","message":"unknown message type \'shutdown\'"}'

CLIENT_MESSAGES: list[tuple[str, type[BaseModel]]] = [
    (AUTH, Auth),
    (PRINTERS, Printers),
    (JOB_STATE, JobStateReport),
]
SERVER_MESSAGES: list[tuple[str, type[BaseModel]]] = [
    (AUTH_OK, AuthOk),
    (AUTH_ERROR, AuthError),
    (PRINTERS_OK, PrintersOk),
    (PRINT_JOB, PrintJob),
    (ERROR, Error),
]
BOTH_PARSERS = pytest.mark.parametrize(
    "parse", [parse_client_message, parse_server_message], ids=["client", "server"]
)


def with_fields(text: str, **fields: Any) -> str:
    """The contract message ``text`` with top-level fields added or replaced."""
    return json.dumps(json.loads(text) | fields)


def without(text: str, field: str) -> str:
    data = json.loads(text)
    del data[field]
    return json.dumps(data)


def printers_message(printers: list[Any]) -> str:
    return json.dumps({"type": "printers", "printers": printers})


def invalid(parse: Parser, text: str | bytes) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        parse(text)
    return caught.value


# The contract's messages, both ways


@pytest.mark.parametrize(("text", "model"), CLIENT_MESSAGES)
def test_client_messages_parse_from_the_contract_and_dump_back_to_it(
    text: str, model: type
) -> None:
    message = parse_client_message(text)
    assert type(message) is model
    assert json.loads(message.dump()) == json.loads(text)


@pytest.mark.parametrize(("text", "model"), SERVER_MESSAGES)
def test_server_messages_parse_from_the_contract_and_dump_back_to_it(
    text: str, model: type
) -> None:
    message = parse_server_message(text)
    assert type(message) is model
    assert json.loads(message.dump()) == json.loads(text)


def test_auth_fields_are_read_from_their_camel_case_names() -> None:
    message = parse_client_message(AUTH)
    assert message == Auth(
        api_key="pk_live_...", computer_name="Office-PC", os="Windows", client_version="1.0.0"
    )


def test_printers_fields_are_read_from_their_camel_case_names() -> None:
    message = parse_client_message(PRINTERS)
    assert isinstance(message, Printers)
    assert message.printers == [
        PrinterInfo(
            name="HP LaserJet Pro", capabilities={"color": True, "duplex": True}, is_default=True
        )
    ]


def test_job_state_fields_are_read_from_their_camel_case_names() -> None:
    message = parse_client_message(JOB_STATE)
    assert message == JobStateReport(
        job_id="pj_xxx", state="completed", message="Printed to HP LaserJet"
    )


def test_print_job_fields_are_read_from_their_camel_case_names() -> None:
    message = parse_server_message(PRINT_JOB)
    assert isinstance(message, PrintJob)
    job = message.job
    assert (job.id, job.printer_name, job.content_type) == ("pj_xxx", "HP LaserJet", "pdf_base64")
    assert (job.content, job.title, job.options, job.qty) == (
        "JVBERi0xLjQ...",
        "Invoice #456",
        {"copies": 2},
        1,
    )


def test_server_answers_are_read_from_their_camel_case_names() -> None:
    assert parse_server_message(AUTH_OK) == AuthOk(computer_id="cmp_123")
    assert parse_server_message(AUTH_ERROR) == AuthError(message="Invalid API key")
    assert parse_server_message(PRINTERS_OK) == PrintersOk(count=1)


def test_models_built_in_code_dump_the_contract_field_names() -> None:
    dumped = json.loads(
        Auth(
            api_key="pk_live_...", computer_name="Office-PC", os="Windows", client_version="1.0.0"
        ).dump()
    )
    assert dumped == json.loads(AUTH)
    assert json.loads(AuthOk(computer_id="cmp_123").dump()) == json.loads(AUTH_OK)


def test_bytes_in_utf8_parse_like_text() -> None:
    assert parse_client_message(AUTH.encode()) == parse_client_message(AUTH)
    assert parse_server_message(PRINT_JOB.encode()) == parse_server_message(PRINT_JOB)


def test_non_ascii_names_survive_the_round_trip() -> None:
    text = with_fields(AUTH, computerName="Büro-PC №2 打印机")
    message = parse_client_message(text)
    assert isinstance(message, Auth)
    assert message.computer_name == "Büro-PC №2 打印机"
    assert json.loads(message.dump())["computerName"] == "Büro-PC №2 打印机"


# Unknown fields and defaults


def test_unknown_fields_are_ignored_at_every_level() -> None:
    auth = with_fields(AUTH, hostname="office-pc.local", pid=4242)
    assert json.loads(parse_client_message(auth).dump()) == json.loads(AUTH)

    printers = json.loads(PRINTERS)
    printers["printers"][0]["driver"] = "HP Universal"
    printers["agentUptime"] = 12
    assert json.loads(parse_client_message(json.dumps(printers)).dump()) == json.loads(PRINTERS)

    print_job = json.loads(PRINT_JOB)
    print_job["job"]["priority"] = "high"
    print_job["sentAt"] = "2026-01-01T00:00:00Z"
    assert json.loads(parse_server_message(json.dumps(print_job)).dump()) == json.loads(PRINT_JOB)


def test_auth_os_and_client_version_default_to_empty() -> None:
    text = '{"type":"auth","apiKey":"pk_live_x","computerName":"Office-PC"}'
    message = parse_client_message(text)
    assert isinstance(message, Auth)
    assert (message.os, message.client_version) == ("", "")
    assert json.loads(message.dump()) == {
        "type": "auth",
        "apiKey": "pk_live_x",
        "computerName": "Office-PC",
        "os": "",
        "clientVersion": "",
    }


def test_printer_capabilities_default_to_empty_and_is_default_to_false() -> None:
    message = parse_client_message(printers_message([{"name": "Brother HL"}]))
    assert isinstance(message, Printers)
    assert message.printers == [PrinterInfo(name="Brother HL", capabilities={}, is_default=False)]
    assert json.loads(message.dump())["printers"] == [
        {"name": "Brother HL", "capabilities": {}, "isDefault": False}
    ]


def test_an_empty_printer_list_is_a_valid_report() -> None:
    message = parse_client_message(printers_message([]))
    assert isinstance(message, Printers)
    assert message.printers == []


def test_job_state_message_defaults_to_empty() -> None:
    message = parse_client_message('{"type":"job_state","jobId":"pj_1","state":"printing"}')
    assert isinstance(message, JobStateReport)
    assert message.message == ""


def test_print_job_options_default_to_empty_and_qty_to_one() -> None:
    data = json.loads(PRINT_JOB)
    del data["job"]["options"], data["job"]["qty"]
    message = parse_server_message(json.dumps(data))
    assert isinstance(message, PrintJob)
    assert (message.job.options, message.job.qty) == ({}, 1)


def test_nulls_inside_free_form_options_are_kept_when_dumping() -> None:
    data = json.loads(PRINT_JOB)
    data["job"]["options"] = {"copies": 2, "pageRange": None}
    message = parse_server_message(json.dumps(data))
    assert json.loads(message.dump())["job"]["options"] == {"copies": 2, "pageRange": None}


# Job states an agent may report


@pytest.mark.parametrize("state", ["printing", "completed", "error"])
def test_agent_may_report_printing_completed_and_error(state: str) -> None:
    message = parse_client_message(with_fields(JOB_STATE, state=state))
    assert isinstance(message, JobStateReport)
    assert message.state == state


@pytest.mark.parametrize("state", ["sent", "pending", "expired", "COMPLETED", "done", ""])
def test_job_states_the_server_decides_are_refused(state: str) -> None:
    error = invalid(parse_client_message, with_fields(JOB_STATE, state=state))
    assert error.message_type == "job_state"
    assert "state" in str(error)


# Unknown types


@pytest.mark.parametrize(
    ("parse", "text", "message_type"),
    [
        (parse_client_message, '{"type":"shutdown"}', "shutdown"),
        (parse_client_message, '{"type":""}', ""),
        (parse_client_message, '{"type":"Auth","apiKey":"k","computerName":"c"}', "Auth"),
        (parse_server_message, '{"type":"maintenance","until":"tomorrow"}', "maintenance"),
        # a message of the other direction is unknown to this side
        (parse_client_message, AUTH_OK, "auth_ok"),
        (parse_client_message, PRINT_JOB, "print_job"),
        (parse_client_message, ERROR, "error"),
        (parse_server_message, AUTH, "auth"),
        (parse_server_message, JOB_STATE, "job_state"),
    ],
)
def test_unknown_type_is_invalid_and_carries_the_type(
    parse: Parser, text: str, message_type: str
) -> None:
    error = invalid(parse, text)
    assert error.message_type == message_type
    assert f"unknown message type {message_type!r}" in str(error)


# Missing or invalid fields: the error names the field


@pytest.mark.parametrize(
    ("parse", "text", "message_type", "field"),
    [
        (parse_client_message, without(AUTH, "apiKey"), "auth", "apiKey"),
        (parse_client_message, without(AUTH, "computerName"), "auth", "computerName"),
        (parse_client_message, with_fields(AUTH, apiKey=""), "auth", "apiKey"),
        (parse_client_message, with_fields(AUTH, computerName=""), "auth", "computerName"),
        (parse_client_message, with_fields(AUTH, computerName=42), "auth", "computerName"),
        (parse_client_message, with_fields(AUTH, apiKey=None), "auth", "apiKey"),
        (parse_client_message, with_fields(AUTH, os=["Windows"]), "auth", "os"),
        (parse_client_message, with_fields(AUTH, clientVersion="1" * 51), "auth", "clientVersion"),
        (parse_client_message, without(PRINTERS, "printers"), "printers", "printers"),
        (parse_client_message, with_fields(PRINTERS, printers={}), "printers", "printers"),
        (parse_client_message, printers_message([{}]), "printers", "printers.0.name"),
        (
            parse_client_message,
            printers_message([{"name": "A"}, {"name": "B", "isDefault": "maybe"}]),
            "printers",
            "printers.1.isDefault",
        ),
        (
            parse_client_message,
            printers_message([{"name": "A", "capabilities": ["color"]}]),
            "printers",
            "printers.0.capabilities",
        ),
        (parse_client_message, printers_message(["HP"]), "printers", "printers.0"),
        (parse_client_message, without(JOB_STATE, "jobId"), "job_state", "jobId"),
        (parse_client_message, without(JOB_STATE, "state"), "job_state", "state"),
        (parse_client_message, with_fields(JOB_STATE, jobId=""), "job_state", "jobId"),
        (parse_client_message, with_fields(JOB_STATE, jobId="p" * 41), "job_state", "jobId"),
        (parse_client_message, with_fields(JOB_STATE, message="m" * 2001), "job_state", "message"),
        (parse_server_message, without(AUTH_OK, "computerId"), "auth_ok", "computerId"),
        (parse_server_message, without(AUTH_ERROR, "message"), "auth_error", "message"),
        (parse_server_message, with_fields(PRINTERS_OK, count="one"), "printers_ok", "count"),
        (parse_server_message, without(PRINT_JOB, "job"), "print_job", "job"),
        (parse_server_message, without(ERROR, "message"), "error", "message"),
    ],
)
def test_missing_or_invalid_field_is_invalid_and_names_the_field(
    parse: Parser, text: str, message_type: str, field: str
) -> None:
    error = invalid(parse, text)
    assert error.message_type == message_type
    assert str(error).startswith(f"invalid {message_type} message: ")
    assert f"{field}:" in str(error)


@pytest.mark.parametrize("field", ["printerName", "contentType", "content", "title", "id"])
def test_print_job_without_a_job_field_names_it(field: str) -> None:
    data = json.loads(PRINT_JOB)
    del data["job"][field]
    error = invalid(parse_server_message, json.dumps(data))
    assert error.message_type == "print_job"
    assert f"job.{field}:" in str(error)


def test_invalid_message_reports_a_few_problems_not_all() -> None:
    printers = [{"name": ""} for _ in range(10)]
    error = invalid(parse_client_message, printers_message(printers))
    assert str(error).count("printers.") == 3


# Limits


def test_up_to_max_printers_are_accepted() -> None:
    message = parse_client_message(
        printers_message([{"name": f"Printer {i}"} for i in range(MAX_PRINTERS)])
    )
    assert isinstance(message, Printers)
    assert len(message.printers) == MAX_PRINTERS


def test_more_than_max_printers_are_refused() -> None:
    text = printers_message([{"name": f"Printer {i}"} for i in range(MAX_PRINTERS + 1)])
    error = invalid(parse_client_message, text)
    assert error.message_type == "printers"
    assert "printers:" in str(error)


def test_computer_name_up_to_the_limit_is_accepted() -> None:
    message = parse_client_message(with_fields(AUTH, computerName="n" * MAX_NAME_LENGTH))
    assert isinstance(message, Auth)
    assert len(message.computer_name) == MAX_NAME_LENGTH


def test_overlong_computer_name_is_refused() -> None:
    error = invalid(
        parse_client_message, with_fields(AUTH, computerName="n" * (MAX_NAME_LENGTH + 1))
    )
    assert error.message_type == "auth"
    assert "computerName:" in str(error)


def test_overlong_printer_name_is_refused() -> None:
    error = invalid(parse_client_message, printers_message([{"name": "n" * (MAX_NAME_LENGTH + 1)}]))
    assert "printers.0.name:" in str(error)


# Not the protocol at all


@BOTH_PARSERS
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "{type: auth}",
        '{"type":"auth"',
        "{'type': 'auth'}",
        '[{"type":"auth"}]',
        "[]",
        '"auth"',
        "42",
        "null",
        "true",
        "{}",
        '{"apiKey":"pk_live_x","computerName":"Office-PC"}',
        '{"type":1}',
        '{"type":null}',
        '{"type":true}',
        '{"type":["auth"]}',
        '{"type":{"name":"auth"}}',
    ],
)
def test_text_that_is_not_an_object_with_a_string_type_is_malformed(
    parse: Parser, text: str
) -> None:
    with pytest.raises(MalformedMessage):
        parse(text)


@BOTH_PARSERS
@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\xfd",
        b'{"type":"auth","apiKey":"\xff","computerName":"Office-PC"}',
        b'{"type":"auth","apiKey":"k","computerName":"Caf\xe9"}',  # Latin-1
        '{"type":"auth","apiKey":"k","computerName":"c"}'.encode("utf-16"),
        '{"type":"auth","apiKey":"k","computerName":"c"}'.encode("utf-16-le"),
        '{"type":"auth","apiKey":"k","computerName":"c"}'.encode("utf-32"),
        b'{"type":"auth","apiKey":"\xed\xa0\x80","computerName":"c"}',  # an encoded surrogate
    ],
    ids=["garbage", "invalid-byte", "latin-1", "utf-16", "utf-16-le", "utf-32", "surrogate"],
)
def test_bytes_that_are_not_utf8_are_malformed(parse: Parser, data: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse(data)


def test_malformed_and_invalid_are_different_errors() -> None:
    assert not issubclass(MalformedMessage, InvalidMessage)
    assert not issubclass(InvalidMessage, MalformedMessage)
