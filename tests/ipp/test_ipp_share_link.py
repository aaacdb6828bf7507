"""A printer's share link, ``/ipp/share/<token>``, on SQLite and PostgreSQL: the token is
the credential, for that printer only, printing as a ``print_only`` key would; a revoked
or replaced token prints nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from printcloud.protocol import ipp
from printcloud.protocol.ipp import Attribute, GroupTag, Operation, ValueTag, attr
from printcloud.server.computers import share_tokens
from printcloud.server.db.models import Printer
from printcloud.server.runtime import Runtime
from tests.helpers import ipp_client
from tests.helpers.accounts import TestAccount
from tests.helpers.documents import minimal_pdf

HEADERS = {"Content-Type": "application/ipp"}


async def _token(runtime: Runtime, account: TestAccount, printer_id: str) -> str:
    async with runtime.sessionmaker() as session:
        _, token = await share_tokens.create_share_token(
            session, account.account_id, printer_id, user_id=None
        )
        await session.commit()
    return token


async def _revoke(runtime: Runtime, account: TestAccount, printer_id: str) -> None:
    async with runtime.sessionmaker() as session:
        await share_tokens.revoke_share_token(session, account.account_id, printer_id)
        await session.commit()


def _request(operation: int, token: str, job: list[Attribute] | None = None) -> bytes:
    uri = f"ipp://testserver/ipp/share/{token}"
    operation_attributes = [attr("printer-uri", ValueTag.URI, uri)]
    if operation == Operation.PRINT_JOB:
        operation_attributes.append(attr("job-name", ValueTag.NAME, "Shared"))
    data = minimal_pdf() if operation == Operation.PRINT_JOB else b""
    return ipp.request(operation, 7, operation_attributes, job or [], data)


async def _post(client: httpx.AsyncClient, token: str, operation: int) -> httpx.Response:
    return await client.post(
        f"/ipp/share/{token}", content=_request(operation, token), headers=HEADERS
    )


async def test_a_share_link_prints_to_its_printer_without_a_key(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    token = await _token(runtime, account, printer_id)

    described = await _post(client, token, Operation.GET_PRINTER_ATTRIBUTES)
    assert described.status_code == 200
    printer = ipp.parse(described.content).first(GroupTag.PRINTER)
    async with runtime.sessionmaker() as session:
        name = await session.scalar(select(Printer.name).where(Printer.id == printer_id))
    assert printer["printer-name"] == [name]

    printed = ipp.parse((await _post(client, token, Operation.PRINT_JOB)).content)
    assert printed.status_name == "successful-ok"
    jobs = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert [(j["title"], j["printer"]["id"]) for j in jobs] == [("Shared", printer_id)]


async def test_a_share_link_may_not_cancel_as_a_print_only_key_may_not(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    token = await _token(runtime, account, printer_id)
    printed = ipp.parse((await _post(client, token, Operation.PRINT_JOB)).content)
    job_id = ipp_client.job_id(printed)
    cancel = ipp.request(
        Operation.CANCEL_JOB,
        8,
        [
            attr("printer-uri", ValueTag.URI, f"ipp://testserver/ipp/share/{token}"),
            attr("job-id", ValueTag.INTEGER, job_id),
        ],
    )
    answer = await client.post(f"/ipp/share/{token}", content=cancel, headers=HEADERS)
    assert ipp.parse(answer.content).status_name == "client-error-not-authorized"
    assert len((await client.get("/api/printjobs", auth=account.auth())).json()) == 1


async def test_a_revoked_replaced_or_made_up_token_is_not_found(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = await _token(runtime, account, printer_id)
    second = await _token(runtime, account, printer_id)  # replaces the first
    assert (await _post(client, first, Operation.GET_PRINTER_ATTRIBUTES)).status_code == 404
    assert (await _post(client, second, Operation.GET_PRINTER_ATTRIBUTES)).status_code == 200
    await _revoke(runtime, account, printer_id)
    assert (await _post(client, second, Operation.GET_PRINTER_ATTRIBUTES)).status_code == 404
    made_up = "ps_" + "A" * 32
    assert (await _post(client, made_up, Operation.PRINT_JOB)).status_code == 404
    assert (await client.get("/api/printjobs", auth=account.auth())).json() == []
