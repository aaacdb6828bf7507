"""PrintNode's error shape for every failure under ``/printnode``.

PrintNode answers ``{"uid", "code", "message"}``, ``uid`` being the request's id, also
sent as the ``Request-Id`` header. Its client libraries raise from ``code`` and
``message``. The route class below renders our errors (and FastAPI's validation errors,
and the authentication's, which run inside the route) that way, so that the rest of the
server keeps its own ``{"code", "message"}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from printcloud.server.availability import DependencyUnavailable
from printcloud.server.errors import (
    PrintCloudError,
    code_for,
    describe_validation_errors,
    unavailable,
)


def printnode_error(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    uid = uuid.uuid4().hex
    return JSONResponse(
        {"uid": uid, "code": code_for(status), "message": message},
        status_code=status,
        headers={**(headers or {}), "Request-Id": uid},
    )


class PrintNodeRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PrintCloudError as exc:
                return printnode_error(exc.status_code, exc.message, exc.headers)
            except RequestValidationError as exc:
                return printnode_error(400, describe_validation_errors(exc.errors()))
            except DependencyUnavailable as exc:
                refusal = unavailable(exc)
                return printnode_error(refusal.status_code, refusal.message, refusal.headers)
            # Anything else is a bug: the app's handler logs it and answers a plain 500.

        return handle
