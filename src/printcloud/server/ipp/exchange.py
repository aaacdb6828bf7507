"""An IPP request's bytes in, its response's bytes out (RFC 8010/8011): the envelope
checked as RFC 8011 4.1 says, then the operation. Every refusal is an IPP status; only
bytes that are not an IPP message at all are an HTTP 400 (:class:`NotIpp`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol import ipp
from printcloud.protocol.ipp import Attribute, GroupTag, Message, Operation, ValueTag, attr
from printcloud.server.errors import BadRequest
from printcloud.server.ipp.access import Target
from printcloud.server.ipp.book import JobBook
from printcloud.server.ipp.call import (
    BAD_REQUEST,
    CHARSET_NOT_SUPPORTED,
    NOT_AUTHORIZED,
    OPERATION_NOT_SUPPORTED,
    VERSION_NOT_SUPPORTED,
    Answer,
    Call,
    Refusal,
    one,
)
from printcloud.server.ipp.operations import HANDLERS, NEEDS
from printcloud.server.settings import Settings

VERSIONS = frozenset({1, 2})  # IPP/1.x and 2.x; RFC 8011 is 1.1 and what 2.0 adds
CHARSETS = frozenset({"utf-8", "us-ascii"})


class NotIpp(BadRequest):
    """The body is not an IPP request at all: answered HTTP 400."""


async def answer(
    session: AsyncSession,
    settings: Settings,
    book: JobBook,
    target: Target,
    *,
    printer_uri: str,
    secure: bool,
    more_info: str,
    body: bytes,
    now: datetime,
    tick: float,
) -> bytes:
    try:
        request = ipp.parse(body)
    except ipp.IppError as exc:
        raise NotIpp(f"Not an IPP request: {exc}") from None
    # A request-id of 0 or past IPP's integer is refused below; the answer must still
    # carry one that can be encoded.
    request_id = request.request_id if 0 < request.request_id <= 0x7FFFFFFF else 0
    version = request.version if request.version[0] in VERSIONS else (1, 1)
    call = Call(session, settings, book, target, printer_uri, secure, more_info, now, tick, request)
    try:
        result = await _serve(call)
    except Refusal as refusal:
        result = Answer(refusal.status, refusal.message, refusal.unsupported)
    groups: list[tuple[int, Sequence[Attribute]]] = [
        (
            GroupTag.OPERATION,
            [
                attr("attributes-charset", ValueTag.CHARSET, "utf-8"),
                attr("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
                *(
                    [attr("status-message", ValueTag.TEXT, result.message[:255])]
                    if result.message
                    else []
                ),
            ],
        )
    ]
    if result.unsupported:
        groups.append((GroupTag.UNSUPPORTED, result.unsupported))
    groups += result.groups
    return ipp.encode(result.status, request_id, groups, version=version)


async def _serve(call: Call) -> Answer:
    request = call.request
    if request.version[0] not in VERSIONS:
        raise Refusal(VERSION_NOT_SUPPORTED, f"IPP/{request.version[0]}.{request.version[1]}")
    if not 0 < request.request_id <= 0x7FFFFFFF:
        raise Refusal(BAD_REQUEST, "request-id must be from 1 to 2147483647")
    _check_operation_group(request)
    handler = HANDLERS.get(request.code)
    if handler is None:
        raise Refusal(OPERATION_NOT_SUPPORTED, f"Operation 0x{request.code:04x} is not supported")
    target = call.operation.get("printer-uri") or call.operation.get("job-uri")
    if not target or not isinstance(target[0], str):
        raise Refusal(BAD_REQUEST, "printer-uri (or job-uri) is required")
    if not call.target.may(NEEDS[request.code]):
        raise Refusal(
            NOT_AUTHORIZED,
            f"This API key's permission ({call.target.permission.value}) does not allow"
            f" {Operation(request.code).name.replace('_', '-').title()}",
        )
    return await handler(call)


def _check_operation_group(request: Message) -> None:
    """RFC 8011 4.1.4: the operation attributes come first, and begin with the charset
    then the natural language."""
    if not request.groups or request.groups[0][0] != GroupTag.OPERATION:
        raise Refusal(BAD_REQUEST, "The request has no operation attributes")
    if len(request.all(GroupTag.OPERATION)) > 1:
        raise Refusal(BAD_REQUEST, "More than one group of operation attributes")
    names = list(request.groups[0][1])
    if names[:2] != ["attributes-charset", "attributes-natural-language"]:
        raise Refusal(
            BAD_REQUEST,
            "attributes-charset and attributes-natural-language must come first, in that order",
        )
    group = request.groups[0][1]
    charset = one(group, "attributes-charset")
    language = one(group, "attributes-natural-language")
    if not isinstance(charset, str) or not isinstance(language, str):
        raise Refusal(BAD_REQUEST, "attributes-charset and -natural-language take one value")
    if charset.lower() not in CHARSETS:
        raise Refusal(
            CHARSET_NOT_SUPPORTED,
            f"Charset {charset} is not supported: use utf-8",
            [attr("attributes-charset", ValueTag.CHARSET, charset[:63])],
        )
