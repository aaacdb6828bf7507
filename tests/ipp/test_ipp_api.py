"""The IPP printer (``POST /ipp/print/<printer id>``) in process, on SQLite and
PostgreSQL: authentication, isolation, permissions, limits, each operation and its
refusals, and that an IPP job is a PrintCloud job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from printcloud.protocol import ipp
from printcloud.protocol.ipp import GroupTag, Operation, Range, ValueTag, attr
from printcloud.protocol.job_states import JobState
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.db.models import Computer, Event, Printer, PrintJob
from printcloud.server.ipp.printer import uuid_of
from printcloud.server.jobs import service as jobs
from printcloud.server.runtime import Runtime
from tests.helpers import ipp_client
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.documents import minimal_pdf

PDF = minimal_pdf()
FULL = Permission.FULL


async def call(
    client: httpx.AsyncClient,
    printer_id: str,
    account: TestAccount,
    operation: int,
    operation_attributes: list[ipp.Attribute] | None = None,
    job_attributes: list[ipp.Attribute] | None = None,
    data: bytes = b"",
    permission: Permission = FULL,
) -> ipp.Message:
    return await ipp_client.call(
        client,
        printer_id,
        account.auth(permission),
        operation,
        operation_attributes or [],
        job_attributes or [],
        data,
    )


async def print_job(
    client: httpx.AsyncClient,
    printer_id: str,
    account: TestAccount,
    job_attributes: list[ipp.Attribute] | None = None,
    title: str = "Invoice #456",
    permission: Permission = FULL,
) -> ipp.Message:
    return await call(
        client,
        printer_id,
        account,
        Operation.PRINT_JOB,
        [attr("job-name", ValueTag.NAME, title)],
        job_attributes,
        PDF,
        permission,
    )


async def api_jobs(client: httpx.AsyncClient, account: TestAccount) -> list[dict[str, Any]]:
    response = await client.get("/api/printjobs", auth=account.auth())
    assert response.status_code == 200
    return list(response.json())


async def set_state(runtime: Runtime, seq: int, *states: JobState) -> None:
    """Move a job as the agent's reports would, through the one function that moves it."""
    async with runtime.sessionmaker() as session:
        job = await session.scalar(select(PrintJob).where(PrintJob.seq == seq))
        assert job is not None
        for state in states:
            await jobs.move_job(session, job, state, f"now {state.value}")
        await session.commit()


# HTTP: who may call


async def test_no_credentials_are_challenged_with_basic(
    client: httpx.AsyncClient, printer_id: str
) -> None:
    body = ipp_client.body(Operation.GET_PRINTER_ATTRIBUTES, printer_id)

    response = await ipp_client.post(client, printer_id, body, None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="PrintCloud"'


async def test_an_invalid_key_is_challenged(client: httpx.AsyncClient, printer_id: str) -> None:
    body = ipp_client.body(Operation.GET_PRINTER_ATTRIBUTES, printer_id)

    response = await ipp_client.post(client, printer_id, body, ("pk_live_nope", "x"))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="PrintCloud"'


async def test_another_accounts_printer_and_an_unknown_one_are_not_found(
    client: httpx.AsyncClient,
    printer_id: str,
    account: TestAccount,
    other_account: TestAccount,
) -> None:
    await print_job(client, printer_id, account)
    for printer, caller in ((printer_id, other_account), ("prn_nosuchprinter", account)):
        body = ipp_client.body(Operation.PRINT_JOB, printer, data=PDF)
        response = await ipp_client.post(client, printer, body, caller.auth())
        assert response.status_code == 404, response.text

    # Nothing of the other account's was touched, nor printed on its behalf.
    assert await api_jobs(client, other_account) == []
    assert len(await api_jobs(client, account)) == 1


async def test_a_read_only_key_reads_and_may_not_print_or_cancel(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    number = ipp_client.job_id(await print_job(client, printer_id, account))
    read_only = Permission.READ_ONLY

    for operation, attributes in (
        (Operation.GET_PRINTER_ATTRIBUTES, []),
        (Operation.GET_JOBS, []),
        (Operation.GET_JOB_ATTRIBUTES, [attr("job-id", ValueTag.INTEGER, number)]),
    ):
        answer = await call(
            client, printer_id, account, operation, attributes, permission=read_only
        )
        assert answer.status_name == "successful-ok", operation
    for operation, attributes, data in (
        (Operation.PRINT_JOB, [], PDF),
        (Operation.VALIDATE_JOB, [], b""),
        (Operation.CREATE_JOB, [], b""),
        (Operation.IDENTIFY_PRINTER, [], b""),
        (Operation.CANCEL_JOB, [attr("job-id", ValueTag.INTEGER, number)], b""),
    ):
        answer = await call(
            client, printer_id, account, operation, attributes, data=data, permission=read_only
        )
        assert answer.status_name == "client-error-not-authorized", operation
    assert len(await api_jobs(client, account)) == 1


async def test_a_print_only_key_prints_but_cancels_nothing_as_delete_needs_a_full_key(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    printed = await print_job(client, printer_id, account, permission=Permission.PRINT_ONLY)
    assert printed.status_name == "successful-ok"

    cancel = await call(
        client,
        printer_id,
        account,
        Operation.CANCEL_JOB,
        [attr("job-id", ValueTag.INTEGER, ipp_client.job_id(printed))],
        permission=Permission.PRINT_ONLY,
    )

    assert cancel.status_name == "client-error-not-authorized"
    assert len(await api_jobs(client, account)) == 1


async def test_not_ipp_is_http_400(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    garbage = await ipp_client.post(client, printer_id, b"\x02\x00\x00", account.auth())
    wrong_type = await client.post(
        ipp_client.path(printer_id),
        content=ipp_client.body(Operation.GET_PRINTER_ATTRIBUTES, printer_id),
        headers={"Content-Type": "application/json"},
        auth=account.auth(),
    )

    assert garbage.status_code == 400
    assert garbage.json()["code"] == "BadRequest"
    assert wrong_type.status_code == 400


async def test_the_document_size_limit_applies(
    runtime_factory: Callable[..., Runtime], account_factory: Callable[..., Any]
) -> None:
    runtime = runtime_factory(max_document_size=len(PDF) - 1)
    account, printer = await account_factory(runtime)
    async with client_for(create_app(runtime=runtime)) as client:
        too_big = await print_job(client, printer, account)
        body = ipp_client.body(Operation.PRINT_JOB, printer, data=PDF + b"\0" * 2 * 1024 * 1024)
        far_too_big = await ipp_client.post(client, printer, body, account.auth())

        assert too_big.status_name == "client-error-request-entity-too-large"
        assert far_too_big.status_code == 413
        assert await api_jobs(client, account) == []


async def test_the_accounts_rate_limit_applies(
    runtime_factory: Callable[..., Runtime], account_factory: Callable[..., Any]
) -> None:
    runtime = runtime_factory(rate_limit="3/h")
    account, printer = await account_factory(runtime)
    body = ipp_client.body(Operation.GET_PRINTER_ATTRIBUTES, printer)
    async with client_for(create_app(runtime=runtime)) as client:
        statuses = [
            (await ipp_client.post(client, printer, body, account.auth())).status_code
            for _ in range(4)
        ]
        api = await client.get("/api/printers", auth=account.auth())

    assert statuses == [200, 200, 200, 429]
    assert api.status_code == 429  # one rate for the account, over IPP and the API


@pytest.fixture
def account_factory() -> Callable[..., Any]:
    async def make(runtime: Runtime) -> tuple[TestAccount, str]:
        account = await make_account(runtime)
        computer = await account.add_computer(runtime)
        async with runtime.sessionmaker() as session:
            found = await session.scalar(
                select(Printer.id).where(Printer.computer_id == computer.id)
            )
        assert found is not None
        return account, found

    return make


# The request's envelope (RFC 8011 4.1)


async def raw(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, data: bytes
) -> ipp.Message:
    response = await ipp_client.post(client, printer_id, data, account.auth())
    assert response.status_code == 200, response.text
    return ipp.parse(response.content)


async def test_the_envelope_is_checked_as_rfc_8011_says(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    uri = attr("printer-uri", ValueTag.URI, ipp_client.uri(printer_id))
    charset = attr("attributes-charset", ValueTag.CHARSET, "utf-8")
    language = attr("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    get = Operation.GET_PRINTER_ATTRIBUTES
    cases = {
        "server-error-version-not-supported": ipp.encode(
            get, 1, [(GroupTag.OPERATION, [charset, language, uri])], version=(3, 0)
        ),
        "client-error-bad-request": ipp.encode(
            get, 0, [(GroupTag.OPERATION, [charset, language, uri])]
        ),
        "server-error-operation-not-supported": ipp.encode(
            Operation.PAUSE_PRINTER, 1, [(GroupTag.OPERATION, [charset, language, uri])]
        ),
    }
    for expected, data in cases.items():
        answer = await raw(client, printer_id, account, data)
        assert answer.status_name == expected
        assert answer.request_id == (1 if expected != "client-error-bad-request" else 0)
    for groups in (
        [],
        [(GroupTag.OPERATION, [language, charset, uri])],
        [(GroupTag.OPERATION, [charset, uri])],
        [(GroupTag.OPERATION, [charset, language])],  # no printer-uri
        [(GroupTag.JOB, [charset]), (GroupTag.OPERATION, [charset, language, uri])],
    ):
        answer = await raw(client, printer_id, account, ipp.encode(get, 7, groups))
        assert answer.status_name == "client-error-bad-request", groups
        assert answer.request_id == 7
    latin = attr("attributes-charset", ValueTag.CHARSET, "iso-8859-1")
    answer = await raw(
        client,
        printer_id,
        account,
        ipp.encode(get, 8, [(GroupTag.OPERATION, [latin, language, uri])]),
    )
    assert answer.status_name == "client-error-charset-not-supported"
    # Every answer starts with the charset and language, as every request must.
    assert list(answer.groups[0][1])[:2] == ["attributes-charset", "attributes-natural-language"]


# Get-Printer-Attributes


async def test_the_printer_is_described_from_what_the_agent_reported(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    answer = await call(client, printer_id, account, Operation.GET_PRINTER_ATTRIBUTES)

    printer = ipp_client.printer_attributes(answer)
    assert printer["printer-uri-supported"] == [ipp_client.uri(printer_id)]
    assert printer["uri-authentication-supported"] == ["basic"]
    assert printer["printer-name"] == ["HP LaserJet Pro"]
    assert printer["printer-uuid"] == [uuid_of(printer_id)]
    assert printer["printer-state"] == [ipp.PrinterState.IDLE]
    assert printer["printer-is-accepting-jobs"] == [True]
    assert printer["document-format-supported"] == ["application/pdf", "application/octet-stream"]
    assert printer["media-supported"] == ["iso_a4_210x297mm", "na_letter_8.5x11in"]
    assert printer["media-default"] == ["iso_a4_210x297mm"]
    sizes = [col["media-size"][0] for col in printer["media-col-database"] if isinstance(col, dict)]
    assert sizes == [
        {"x-dimension": [21000], "y-dimension": [29700]},
        {"x-dimension": [21590], "y-dimension": [27940]},
    ]
    assert printer["sides-supported"] == [
        "one-sided",
        "two-sided-long-edge",
        "two-sided-short-edge",
    ]
    assert printer["print-color-mode-supported"] == ["color", "auto", "monochrome"]
    assert printer["copies-supported"] == [Range(1, 999)]
    assert printer["ipp-versions-supported"] == ["1.1", "2.0"]
    assert set(printer["operations-supported"]) == {2, 4, 5, 6, 8, 9, 10, 11, 59, 60}
    # "Tray 1" is not an IPP keyword: only "auto" can be asked for.
    assert printer["media-source-supported"] == ["auto"]


async def test_a_printer_without_duplex_or_color_offers_neither(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(Printer)
            .where(Printer.id == printer_id)
            .values(
                capabilities={
                    "color": False,
                    "duplex": False,
                    "media": ["tray-junk"],
                    "bins": ["tray-1"],
                }
            )
        )
        await session.commit()

    printer = ipp_client.printer_attributes(
        await call(client, printer_id, account, Operation.GET_PRINTER_ATTRIBUTES)
    )
    refused = await print_job(
        client, printer_id, account, [attr("sides", ValueTag.KEYWORD, "two-sided-long-edge")]
    )

    assert printer["sides-supported"] == ["one-sided"]
    assert printer["print-color-mode-supported"] == ["monochrome"]
    assert printer["media-source-supported"] == ["auto", "tray-1"]
    # A paper we cannot size is not offered; with none left, A4 and Letter are.
    assert printer["media-supported"] == ["iso_a4_210x297mm", "na_letter_8.5x11in"]
    assert refused.status_name == "client-error-attributes-or-values-not-supported"
    assert refused.first(GroupTag.UNSUPPORTED) == {"sides": ["two-sided-long-edge"]}


async def test_an_offline_computer_makes_a_stopped_printer_that_still_takes_jobs(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(Computer)
            .where(Computer.account_id == account.account_id)
            .values(state="offline")
        )
        await session.commit()

    printer = ipp_client.printer_attributes(
        await call(client, printer_id, account, Operation.GET_PRINTER_ATTRIBUTES)
    )

    assert printer["printer-state"] == [ipp.PrinterState.STOPPED]
    assert printer["printer-state-reasons"] == ["offline-report"]
    assert "offline" in str(printer["printer-state-message"][0])
    assert printer["printer-is-accepting-jobs"] == [True]
    assert (await print_job(client, printer_id, account)).status_name == "successful-ok"


async def test_a_stopped_or_refusing_cups_queue_makes_a_stopped_printer(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    states = []
    for reported in (
        {"state": "stopped", "accepting": True},
        {"state": "idle", "accepting": False},
    ):
        async with runtime.sessionmaker() as session:
            await session.execute(
                update(Printer).where(Printer.id == printer_id).values(capabilities=reported)
            )
            await session.commit()
        printer = ipp_client.printer_attributes(
            await call(client, printer_id, account, Operation.GET_PRINTER_ATTRIBUTES)
        )
        states.append((printer["printer-state"], printer["printer-state-reasons"]))

    assert states == [([ipp.PrinterState.STOPPED], ["paused"])] * 2


async def test_a_printer_with_jobs_waiting_is_processing(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    await print_job(client, printer_id, account)

    printer = ipp_client.printer_attributes(
        await call(client, printer_id, account, Operation.GET_PRINTER_ATTRIBUTES)
    )

    assert printer["printer-state"] == [ipp.PrinterState.PROCESSING]
    assert printer["queued-job-count"] == [1]


async def test_requested_attributes_and_groups_select_what_is_answered(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    async def names(*requested: str) -> set[str]:
        answer = await call(
            client,
            printer_id,
            account,
            Operation.GET_PRINTER_ATTRIBUTES,
            [attr("requested-attributes", ValueTag.KEYWORD, *requested)],
        )
        return set(ipp_client.printer_attributes(answer))

    everything = await names("all")
    template = await names("job-template")
    description = await names("printer-description")

    assert await names("printer-state", "media-default") == {"printer-state", "media-default"}
    assert "sides-supported" in template
    assert "printer-state" not in template
    assert "printer-state" in description
    assert "sides-supported" not in description
    assert template | description == everything


# Print-Job: an IPP job is a PrintCloud job


async def test_print_job_makes_a_printcloud_job_with_the_options_mapped(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    answer = await print_job(
        client,
        printer_id,
        account,
        [
            attr("copies", ValueTag.INTEGER, 2),
            attr("sides", ValueTag.KEYWORD, "two-sided-short-edge"),
            attr("print-color-mode", ValueTag.KEYWORD, "monochrome"),
            attr("media", ValueTag.KEYWORD, "na_letter_8.5x11in"),
            attr("page-ranges", ValueTag.RANGE_OF_INTEGER, Range(1, 2), Range(5, 5)),
            attr("print-scaling", ValueTag.KEYWORD, "fit"),
        ],
    )

    assert answer.status_name == "successful-ok"
    job = answer.first(GroupTag.JOB)
    assert job["job-state"] == [ipp.JobState.PENDING]
    assert job["job-uri"] == [f"{ipp_client.uri(printer_id)}/jobs/{ipp_client.job_id(answer)}"]
    (made,) = await api_jobs(client, account)
    assert made["title"] == "Invoice #456"
    assert made["contentType"] == "pdf_base64"
    assert made["options"] == {
        "copies": 2,
        "duplex": "short-edge",
        "color": False,
        "paper": "na_letter_8.5x11in",
        "pages": "1-2,5-5",
        "fit_to_page": True,
    }
    async with runtime.sessionmaker() as session:
        events = (
            await session.scalars(select(Event).where(Event.account_id == account.account_id))
        ).all()
    # The webhooks' outbox has it as it has a job of the API.
    assert [(e.type, e.payload["jobId"]) for e in events] == [("job.created", made["id"])]


async def test_media_col_names_a_paper_by_size_and_a_tray(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(Printer)
            .where(Printer.id == printer_id)
            .values(capabilities={"media": ["iso_a4_210x297mm"], "bins": ["tray-2"]})
        )
        await session.commit()
    size = attr(
        "media-size",
        ValueTag.BEG_COLLECTION,
        [
            attr("x-dimension", ValueTag.INTEGER, 21000),
            attr("y-dimension", ValueTag.INTEGER, 29700),
        ],
    )
    source = attr("media-source", ValueTag.KEYWORD, "tray-2")

    answer = await print_job(
        client, printer_id, account, [attr("media-col", ValueTag.BEG_COLLECTION, [size, source])]
    )

    assert answer.status_name == "successful-ok"
    (made,) = await api_jobs(client, account)
    assert made["options"] == {"paper": "iso_a4_210x297mm", "media": "tray-2"}


async def test_unsupported_values_are_refused_and_named(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    for attribute in (
        attr("copies", ValueTag.INTEGER, 0),
        attr("copies", ValueTag.INTEGER, 1000),
        attr("sides", ValueTag.KEYWORD, "two-sided-sideways"),
        attr("media", ValueTag.KEYWORD, "iso_a0_841x1189mm"),
        attr("print-scaling", ValueTag.KEYWORD, "fill"),
        attr("print-color-mode", ValueTag.KEYWORD, "highlight"),
        attr("page-ranges", ValueTag.RANGE_OF_INTEGER, Range(3, 1)),
        attr("finishings", ValueTag.ENUM, 4),
    ):
        answer = await print_job(client, printer_id, account, [attribute])
        assert answer.status_name == "client-error-attributes-or-values-not-supported", attribute
        assert attribute.name in answer.first(GroupTag.UNSUPPORTED)
    assert await api_jobs(client, account) == []


async def test_unknown_attributes_are_ignored_unless_fidelity_is_asked(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    unknown = [attr("x-fancy-stapling", ValueTag.KEYWORD, "yes")]
    lenient = await print_job(client, printer_id, account, unknown)
    strict = await call(
        client,
        printer_id,
        account,
        Operation.PRINT_JOB,
        [attr("ipp-attribute-fidelity", ValueTag.BOOLEAN, True)],
        unknown,
        PDF,
    )

    assert lenient.status_name == "successful-ok-ignored-or-substituted-attributes"
    assert lenient.first(GroupTag.UNSUPPORTED) == {"x-fancy-stapling": ["yes"]}
    assert strict.status_name == "client-error-attributes-or-values-not-supported"
    assert len(await api_jobs(client, account)) == 1


async def test_only_pdf_documents_are_printed(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    def operation(fmt: str | None = None, compression: str | None = None) -> list[ipp.Attribute]:
        found = []
        if fmt:
            found.append(attr("document-format", ValueTag.MIME_MEDIA_TYPE, fmt))
        if compression:
            found.append(attr("compression", ValueTag.KEYWORD, compression))
        return found

    cases = [
        (operation("image/jpeg"), PDF, "client-error-document-format-not-supported"),
        (operation(compression="gzip"), PDF, "client-error-compression-not-supported"),
        (
            operation("application/octet-stream"),
            b"GIF89a",
            "client-error-document-format-not-supported",
        ),
        (operation("application/pdf"), b"GIF89a", "client-error-document-format-error"),
        (operation(), b"", "client-error-bad-request"),
        (operation("application/octet-stream"), PDF, "successful-ok"),
    ]
    for attributes, data, expected in cases:
        answer = await call(client, printer_id, account, Operation.PRINT_JOB, attributes, data=data)
        assert answer.status_name == expected, (attributes, data[:8])
    assert len(await api_jobs(client, account)) == 1


async def test_validate_job_checks_without_printing(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    good = await call(
        client,
        printer_id,
        account,
        Operation.VALIDATE_JOB,
        [],
        [attr("copies", ValueTag.INTEGER, 3)],
    )
    bad = await call(
        client,
        printer_id,
        account,
        Operation.VALIDATE_JOB,
        [],
        [attr("copies", ValueTag.INTEGER, 0)],
    )
    identify = await call(client, printer_id, account, Operation.IDENTIFY_PRINTER)

    assert good.status_name == "successful-ok"
    assert bad.status_name == "client-error-attributes-or-values-not-supported"
    assert identify.status_name == "successful-ok"
    assert await api_jobs(client, account) == []


# Create-Job + Send-Document


async def test_create_job_then_send_document_makes_one_job_known_by_its_first_number(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    created = await call(
        client,
        printer_id,
        account,
        Operation.CREATE_JOB,
        [attr("job-name", ValueTag.NAME, "Report")],
        [attr("sides", ValueTag.KEYWORD, "two-sided-long-edge")],
    )
    number = ipp_client.job_id(created)
    job_id = attr("job-id", ValueTag.INTEGER, number)
    waiting = await call(client, printer_id, account, Operation.GET_JOB_ATTRIBUTES, [job_id])
    assert await api_jobs(client, account) == []

    sent = await call(
        client,
        printer_id,
        account,
        Operation.SEND_DOCUMENT,
        [job_id, attr("last-document", ValueTag.BOOLEAN, True)],
        data=PDF,
    )
    again = await call(
        client,
        printer_id,
        account,
        Operation.SEND_DOCUMENT,
        [job_id, attr("last-document", ValueTag.BOOLEAN, True)],
        data=PDF,
    )
    after = await call(client, printer_id, account, Operation.GET_JOB_ATTRIBUTES, [job_id])
    listed = await call(client, printer_id, account, Operation.GET_JOBS)

    assert created.first(GroupTag.JOB)["job-state"] == [ipp.JobState.PENDING_HELD]
    assert waiting.first(GroupTag.JOB)["job-state-reasons"] == ["job-incoming"]
    assert sent.status_name == "successful-ok"
    assert ipp_client.job_id(sent) == number
    assert again.status_name == "client-error-not-possible"
    assert after.first(GroupTag.JOB)["job-state"] == [ipp.JobState.PENDING]
    assert [group["job-id"] for group in listed.all(GroupTag.JOB)] == [[number]]
    (made,) = await api_jobs(client, account)
    assert made["title"] == "Report"
    assert made["options"] == {"duplex": "long-edge"}


async def test_send_document_refusals(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, other_account: TestAccount
) -> None:
    number = ipp_client.job_id(await call(client, printer_id, account, Operation.CREATE_JOB))
    job_id = attr("job-id", ValueTag.INTEGER, number)
    last = attr("last-document", ValueTag.BOOLEAN, True)

    async def send(attributes: list[ipp.Attribute], data: bytes = PDF) -> str:
        answer = await call(
            client, printer_id, account, Operation.SEND_DOCUMENT, attributes, data=data
        )
        return answer.status_name

    assert await send([job_id]) == "client-error-bad-request"  # no last-document
    assert await send([last]) == "client-error-bad-request"  # no job-id
    assert await send([attr("job-id", ValueTag.INTEGER, 12345), last]) == "client-error-not-found"
    assert (
        await send([job_id, attr("last-document", ValueTag.BOOLEAN, False)])
        == "server-error-multiple-document-jobs-not-supported"
    )
    assert await send([job_id, last], b"") == "client-error-bad-request"
    assert await api_jobs(client, account) == []


# Reading jobs: their state follows ours


async def test_job_state_follows_the_printcloud_job(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    expected = {
        (): (ipp.JobState.PENDING, "none"),
        (JobState.SENT,): (ipp.JobState.PROCESSING, "job-transforming"),
        (JobState.SENT, JobState.PRINTING): (ipp.JobState.PROCESSING, "job-printing"),
        (JobState.PRINTING, JobState.COMPLETED): (
            ipp.JobState.COMPLETED,
            "job-completed-successfully",
        ),
        (JobState.ERROR,): (ipp.JobState.ABORTED, "aborted-by-system"),
        (JobState.EXPIRED,): (ipp.JobState.ABORTED, "aborted-by-system"),
    }
    for moves, (state, reason) in expected.items():
        number = ipp_client.job_id(await print_job(client, printer_id, account))
        await set_state(runtime, number, *moves)

        answer = await call(
            client,
            printer_id,
            account,
            Operation.GET_JOB_ATTRIBUTES,
            [attr("job-id", ValueTag.INTEGER, number)],
        )

        job = answer.first(GroupTag.JOB)
        assert job["job-state"] == [state], moves
        assert job["job-state-reasons"] == [reason], moves
        message = f"now {moves[-1].value}" if moves else "Job created"
        assert job["job-state-message"] == [message]
        assert job["job-name"] == ["Invoice #456"]


async def test_get_jobs_lists_completed_or_not_with_a_limit(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    numbers = [ipp_client.job_id(await print_job(client, printer_id, account)) for _ in range(4)]
    await set_state(runtime, numbers[0], JobState.COMPLETED)
    await set_state(runtime, numbers[1], JobState.ERROR)

    async def listed(*attributes: ipp.Attribute) -> list[int]:
        answer = await call(client, printer_id, account, Operation.GET_JOBS, list(attributes))
        assert answer.status_name == "successful-ok"
        return [int(group["job-id"][0]) for group in answer.all(GroupTag.JOB)]  # type: ignore[arg-type]

    completed = attr("which-jobs", ValueTag.KEYWORD, "completed")
    assert await listed() == numbers[2:]
    assert await listed(completed) == [numbers[1], numbers[0]]
    assert await listed(completed, attr("limit", ValueTag.INTEGER, 1)) == [numbers[1]]
    assert await listed(attr("my-jobs", ValueTag.BOOLEAN, True)) == numbers[2:]
    assert await listed(attr("job-ids", ValueTag.INTEGER, numbers[0], numbers[3])) == [
        numbers[0],
        numbers[3],
    ]
    refused = await call(
        client,
        printer_id,
        account,
        Operation.GET_JOBS,
        [attr("which-jobs", ValueTag.KEYWORD, "fetchable")],
    )
    assert refused.status_name == "client-error-attributes-or-values-not-supported"


async def test_jobs_of_another_printer_or_account_are_not_found(
    client: httpx.AsyncClient,
    printer_id: str,
    account: TestAccount,
    other_account: TestAccount,
    runtime: Runtime,
) -> None:
    number = ipp_client.job_id(await print_job(client, printer_id, account))
    computer = await account.add_computer(runtime, name="Other-PC", printers=("Second",))
    async with runtime.sessionmaker() as session:
        second = await session.scalar(select(Printer.id).where(Printer.computer_id == computer.id))
    assert second is not None
    job_id = attr("job-id", ValueTag.INTEGER, number)

    elsewhere = await call(client, second, account, Operation.GET_JOB_ATTRIBUTES, [job_id])
    cancel_elsewhere = await call(client, second, account, Operation.CANCEL_JOB, [job_id])
    listed_elsewhere = await call(client, second, account, Operation.GET_JOBS)

    assert elsewhere.status_name == "client-error-not-found"
    assert cancel_elsewhere.status_name == "client-error-not-found"
    assert listed_elsewhere.all(GroupTag.JOB) == []
    assert len(await api_jobs(client, account)) == 1


# Cancel-Job: as DELETE /api/printjobs


async def test_cancel_job_deletes_the_job_and_remembers_it_canceled(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    number = ipp_client.job_id(await print_job(client, printer_id, account))
    job_id = attr("job-id", ValueTag.INTEGER, number)

    cancelled = await call(client, printer_id, account, Operation.CANCEL_JOB, [job_id])
    again = await call(client, printer_id, account, Operation.CANCEL_JOB, [job_id])
    seen = await call(client, printer_id, account, Operation.GET_JOB_ATTRIBUTES, [job_id])
    completed = await call(
        client,
        printer_id,
        account,
        Operation.GET_JOBS,
        [attr("which-jobs", ValueTag.KEYWORD, "completed")],
    )

    assert cancelled.status_name == "successful-ok"
    assert await api_jobs(client, account) == []
    assert again.status_name == "client-error-not-possible"
    assert seen.first(GroupTag.JOB)["job-state"] == [ipp.JobState.CANCELED]
    assert seen.first(GroupTag.JOB)["job-state-reasons"] == ["job-canceled-by-user"]
    assert [g["job-id"] for g in completed.all(GroupTag.JOB)] == [[number]]


async def test_a_finished_job_cannot_be_cancelled(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount, runtime: Runtime
) -> None:
    number = ipp_client.job_id(await print_job(client, printer_id, account))
    await set_state(runtime, number, JobState.COMPLETED)

    answer = await call(
        client,
        printer_id,
        account,
        Operation.CANCEL_JOB,
        [attr("job-id", ValueTag.INTEGER, number)],
    )

    assert answer.status_name == "client-error-not-possible"
    assert [j["state"] for j in await api_jobs(client, account)] == ["completed"]


async def test_a_job_uri_names_the_job_too(
    client: httpx.AsyncClient, printer_id: str, account: TestAccount
) -> None:
    printed = await print_job(client, printer_id, account)
    job_uri = printed.first(GroupTag.JOB)["job-uri"][0]
    assert isinstance(job_uri, str)
    body = ipp.request(Operation.GET_JOB_ATTRIBUTES, 5, [attr("job-uri", ValueTag.URI, job_uri)])

    answer = await raw(client, printer_id, account, body)

    assert answer.status_name == "successful-ok"
    assert answer.first(GroupTag.JOB)["job-id"] == [ipp_client.job_id(printed)]
