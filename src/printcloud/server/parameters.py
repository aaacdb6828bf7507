"""Path and query parameters, checked once for every route before its own parsing.

An app-wide dependency (``create_app``): FastAPI runs it ahead of each route's own
dependencies and parameters, once the route has matched, so the parameter holding NUL
is named (``ids``, ``after``) and the route never reads it. JSON bodies are checked by
their base model (``schemas.ApiInput``), the dashboard's forms by its route class.
"""

from __future__ import annotations

from fastapi import Request

from printcloud.protocol.nul import described, first_nul
from printcloud.server.errors import BadRequest


async def refuse_nul_parameters(request: Request) -> None:
    # async, though it awaits nothing: FastAPI runs a plain function dependency in a
    # worker thread (see ``deps.get_ports``).
    name = first_nul(request.path_params.items()) or first_nul(request.query_params.multi_items())
    if name is not None:
        raise BadRequest(described(name))
