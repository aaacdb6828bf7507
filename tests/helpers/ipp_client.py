"""IPP requests to PrintCloud's IPP printers (``/ipp/print/<id>``), built and read with
the protocol's own codec."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import httpx

from printcloud.protocol import ipp
from printcloud.protocol.ipp import Attribute, GroupTag, Message, Operation, ValueTag, attr

_request_ids = itertools.count(1)


def path(printer_id: str) -> str:
    return f"/ipp/print/{printer_id}"


def uri(printer_id: str, host: str = "testserver") -> str:
    return f"ipp://{host}{path(printer_id)}"


def body(
    operation: int,
    printer_id: str,
    operation_attributes: Iterable[Attribute] = (),
    job_attributes: Iterable[Attribute] = (),
    data: bytes = b"",
) -> bytes:
    return ipp.request(
        operation,
        next(_request_ids),
        [attr("printer-uri", ValueTag.URI, uri(printer_id)), *operation_attributes],
        job_attributes,
        data,
    )


async def post(
    client: httpx.AsyncClient,
    printer_id: str,
    content: bytes,
    auth: tuple[str, str] | None,
) -> httpx.Response:
    headers = {"Content-Type": "application/ipp"}
    if auth is None:
        return await client.post(path(printer_id), content=content, headers=headers)
    return await client.post(path(printer_id), content=content, headers=headers, auth=auth)


async def call(
    client: httpx.AsyncClient,
    printer_id: str,
    auth: tuple[str, str] | None,
    operation: int,
    operation_attributes: Sequence[Attribute] = (),
    job_attributes: Sequence[Attribute] = (),
    data: bytes = b"",
) -> Message:
    """One operation; the HTTP exchange must succeed, the IPP status is the caller's."""
    response = await post(
        client,
        printer_id,
        body(operation, printer_id, operation_attributes, job_attributes, data),
        auth,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ipp"
    return ipp.parse(response.content)


def job_id(message: Message) -> int:
    value = message.value("job-id", GroupTag.JOB)
    assert isinstance(value, int), message
    return value


def printer_attributes(message: Message) -> ipp.Group:
    return message.first(GroupTag.PRINTER)


def name_of(status: int) -> str:
    return ipp.status_name(status)


__all__ = ["Operation", "ValueTag", "attr"]
