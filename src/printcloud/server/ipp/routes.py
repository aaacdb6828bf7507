"""``POST /ipp/print/<printer id>`` (an API key) and ``/ipp/share/<token>`` (a printer's
share link): IPP over HTTP (RFC 8010), on the server's own port; TLS is the proxy's, as
for the API. Not in the OpenAPI document: docs/ipp.md."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import BadRequest, PayloadTooLarge
from printcloud.server.ipp import access, exchange
from printcloud.server.ipp.access import Target
from printcloud.server.ipp.book import JobBook
from printcloud.server.ports import Ports

PREFIX = "/ipp/print"
# A printer's share link (computers/share_tokens.py): the token is the credential.
SHARE_PREFIX = "/ipp/share"
CONTENT_TYPE = "application/ipp"
# Room for a request's attributes besides its document.
ATTRIBUTES_ALLOWANCE = 1024 * 1024


def ipp_router(book: JobBook | None = None) -> APIRouter:
    """The IPP printers of one process, with what it remembers of their jobs. Another
    way in (a share token in the path) is a route here beside ``print_endpoint``: its
    resolver answers a :class:`Target`, and :func:`serve` does the rest with this book."""
    book = book or JobBook()
    router = APIRouter(include_in_schema=False)

    @router.post(PREFIX + "/{printer_id}")
    async def print_endpoint(
        printer_id: str,
        request: Request,
        session: SessionDep,
        ports: PortsDep,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        target = await access.by_key(session, ports, authorization, printer_id)
        return await serve(request, session, ports, book, target)

    @router.post(SHARE_PREFIX + "/{token}")
    async def share_endpoint(
        token: str, request: Request, session: SessionDep, ports: PortsDep
    ) -> Response:
        target = await access.by_share_token(session, ports, token)
        return await serve(request, session, ports, book, target)

    return router


async def serve(
    request: Request, session: SessionDep, ports: Ports, book: JobBook, target: Target
) -> Response:
    """One IPP request to the printer ``target`` names, however it was resolved."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != CONTENT_TYPE:
        raise BadRequest(f"IPP requests are POSTed as {CONTENT_TYPE}")
    body = await read_body(request, ports.settings.max_document_size + ATTRIBUTES_ALLOWANCE)
    secure = request.url.scheme == "https"
    answer = await exchange.answer(
        session,
        ports.settings,
        book,
        target,
        printer_uri=printer_uri(request, secure),
        more_info=f"{'https' if secure else 'http'}://{_host(request)}/",
        secure=secure,
        body=body,
        now=datetime.now(UTC),
        tick=time.monotonic(),
    )
    return Response(answer, media_type=CONTENT_TYPE)


def printer_uri(request: Request, secure: bool) -> str:
    """The URI the client reached the printer by: it is the printer's name to it."""
    return f"{'ipps' if secure else 'ipp'}://{_host(request)}{request.url.path}"


def _host(request: Request) -> str:
    host = request.headers.get("host") or request.url.netloc
    if len(host) > 255 or any(c in host for c in "/?#@ \\"):
        return request.url.netloc
    return host


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
