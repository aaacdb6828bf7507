"""``POST /api/printjobs``, answered ahead of the framework when nothing about it is unusual.

It is the request an integrator's application sends most, and under load FastAPI's
routing, dependency resolution, request and response objects cost more than the job
itself. Here a plain ASGI wrapper takes the common case: a key already known
(:mod:`printcloud.server.keycache`), a JSON body that validates, no ``Idempotency-Key``,
no browser ``Origin``. It applies the same checks in the same order as the route
(``jobs/routes.py``), answers with the same bodies, and hands the job to the group
commit (:mod:`printcloud.server.jobs.intake`).

Everything else — a key not seen yet or refused, a body that does not validate, a
large document, an idempotent retry, a cross-origin call — is passed to the app
unchanged, body included, before anything has been counted or written: the route
answers it exactly as before. So there is one set of answers, and the fast path only
decides how quickly the commonest one is reached.
"""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from printcloud.server.accounts.deps import api_key_from_header, count_request
from printcloud.server.accounts.permissions import Action, allows
from printcloud.server.accounts.service import Principal, remembered_principal
from printcloud.server.errors import (
    PrintCloudError,
    error_response,
    unexpected_error_response,
)
from printcloud.server.jobs.intake import Intake
from printcloud.server.jobs.schemas import PrintJobIn
from printcloud.server.jobs.service import check_job
from printcloud.server.ports import Ports

log = structlog.get_logger(__name__)

PATHS = frozenset({"/api/printjobs", "/api/printjobs/"})
# Larger bodies go to the route, which decodes a large document in a worker thread.
MAX_FAST_BODY = 256 * 1024
_JSON = b"application/json"


class FastJobRoute:
    def __init__(self, app: ASGIApp, ports: Ports, intake: Intake) -> None:
        self.app = app
        self.ports = ports
        self.intake = intake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        headers = _headers_if_plain(
            scope["headers"], min(MAX_FAST_BODY, self.ports.settings.max_body_size)
        )
        if headers is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away
            return
        principal = self._known_principal(headers.get(b"authorization"))
        job = _valid_job(body) if principal is not None else None
        if principal is None or job is None or not allows(principal.permission, Action.PRINT):
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            await count_request(self.ports, principal)
            checked = await check_job(self.ports.settings, job)
            job_id = await self.intake.submit(principal.account_id, checked)
        except PrintCloudError as exc:
            # Rare: the app's own rendering, the same bytes as the route's.
            await error_response(exc.status_code, exc.message, exc.headers)(scope, receive, send)
            return
        except Exception as exc:  # noqa: BLE001 - answered as the app answers it
            response = unexpected_error_response(exc, method="POST", path=scope["path"])
            await response(scope, receive, send)
            return
        await _send_created(send, job_id)

    def _known_principal(self, authorization: bytes | None) -> Principal | None:
        try:
            api_key = api_key_from_header(
                authorization.decode("latin-1") if authorization else None
            )
        except PrintCloudError:
            return None
        return remembered_principal(self.ports.principals, api_key)


def _headers_if_plain(raw: list[tuple[bytes, bytes]], max_body: int) -> dict[bytes, bytes] | None:
    """The request's headers, if it is one the fast path takes: a JSON body of a
    declared, small length, and nothing that the app's middleware or route treats
    specially (an ``Idempotency-Key``, a browser's ``Origin``, repeated headers)."""
    headers = dict(raw)
    if len(headers) != len(raw) or b"origin" in headers or b"idempotency-key" in headers:
        return None
    length = headers.get(b"content-length", b"")
    if not length.isdigit() or int(length) > max_body:
        return None
    if headers.get(b"content-type", b"").partition(b";")[0].strip().lower() != _JSON:
        return None
    return headers


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def _valid_job(body: bytes) -> PrintJobIn | None:
    try:
        return PrintJobIn.model_validate_json(body)
    except ValidationError:
        return None  # the route says what is wrong, in its words


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body already read, then whatever comes next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_created(send: Send, job_id: str) -> None:
    """The 201, written as Starlette's JSONResponse writes it (the same bytes as the
    route's), without building a response object on the hot path."""
    body = json.dumps(job_id, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON)]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    await send({"type": "http.response.body", "body": body})
