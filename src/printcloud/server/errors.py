"""One error base for the server, rendered as ``{"code", "message"}`` at the edge.

Every failure a client can see passes through the handlers installed by
``install_error_handlers``: our own errors, FastAPI's validation errors (malformed
JSON included), Starlette's HTTP errors (unknown routes, wrong methods) and any
unexpected exception, which is logged with its traceback and answered with a
plain 500 so that no stack trace reaches a client. A dependency that is not answering
(PostgreSQL down or restarting) is not a bug: 503 with ``Retry-After``, and no
traceback (its outage is logged once, where it is noticed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from printcloud.server.availability import RETRY_AFTER, DependencyUnavailable

log = structlog.get_logger(__name__)

_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "UnprocessableContent",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def code_for(status: int) -> str:
    return _CODES.get(status, "BadRequest" if 400 <= status < 500 else "InternalServerError")


class PrintCloudError(Exception):
    """An error meant for the client: its status, code and message are shown as they are."""

    status_code = 500

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})

    @property
    def code(self) -> str:
        return code_for(self.status_code)


class BadRequest(PrintCloudError):
    status_code = 400


class Unauthorized(PrintCloudError):
    status_code = 401

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Basic realm="PrintCloud"'})


class Forbidden(PrintCloudError):
    status_code = 403


class NotFound(PrintCloudError):
    status_code = 404


class Conflict(PrintCloudError):
    status_code = 409


class PayloadTooLarge(PrintCloudError):
    status_code = 413


class UnprocessableContent(PrintCloudError):
    status_code = 422


def retry_after_seconds(retry_after: float) -> int:
    """A ``Retry-After`` in whole seconds, rounded up and at least 1: a client that waits
    this long is let through."""
    return max(1, math.ceil(retry_after))


class TooManyRequests(PrintCloudError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        seconds = retry_after_seconds(retry_after)
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.retry_after = seconds


class ServiceUnavailable(PrintCloudError):
    status_code = 503

    def __init__(self, message: str, *, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


def unavailable(exc: DependencyUnavailable) -> ServiceUnavailable:
    """What a client is told of an outage: which service, and when to come back."""
    return ServiceUnavailable(
        f"The service is temporarily unavailable ({exc.dependency} is not answering); "
        "try again shortly"
    )


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"code": code_for(status), "message": message},
        status_code=status,
        headers=dict(headers or {}),
    )


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """Turn pydantic's error list into one line that names each bad field."""
    parts = []
    for error in errors[:5]:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("malformed JSON in the request body")
            continue
        if kind in ("missing",) and not loc:
            parts.append("a JSON request body is required")
            continue
        if not loc and kind in ("model_attributes_type", "dict_type"):
            parts.append(
                "the request body must be a JSON object "
                "(send it with Content-Type: application/json)"
            )
            continue
        msg = str(error.get("msg", "is invalid"))
        if msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        if kind == "missing":
            msg = "is required"
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more")
    return "; ".join(parts) or "invalid request"


async def _printcloud_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PrintCloudError)
    return error_response(exc.status_code, exc.message, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, describe_validation_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"No such endpoint: {request.method} {request.url.path}"
        if exc.detail and exc.detail != "Not Found":
            message = str(exc.detail)
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
        allow = {"Allow": allowed_methods(request)}
        return error_response(405, message, {**(exc.headers or {}), **allow})
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, exc.headers)


async def _dependency_unavailable(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DependencyUnavailable)
    return unexpected_error_response(exc)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers, for a 405's ``Allow``. Starlette names
    only those of the first route that matched the path, where a path served by two
    routes (``GET`` and ``DELETE /api/printjobs/{ids}``) has more. Asked of the router
    itself, method by method: only on this error's path."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(exc, method=request.method, path=request.url.path)


def unexpected_error_response(exc: Exception, *, method: str = "", path: str = "") -> JSONResponse:
    """503 for a dependency's outage, else the 500 of a bug (logged with its traceback)."""
    if isinstance(exc, DependencyUnavailable):
        refusal = unavailable(exc)
        return error_response(refusal.status_code, refusal.message, refusal.headers)
    log.error("unhandled_exception", method=method, path=path, exc_info=exc)
    return error_response(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PrintCloudError, _printcloud_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # A handler of its own, not the catch-all below: Starlette re-raises what reaches
    # that one, and the server would log a traceback for each request of an outage.
    app.add_exception_handler(DependencyUnavailable, _dependency_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
