"""``/printnode``: PrintNode's API (https://www.printnode.com/en/docs/api/curl) over ours,
so that an application written for PrintNode moves by changing its base URL and key.

Not in our OpenAPI document, which is our own contract; docs/printnode.md lists every
PrintNode endpoint and option, and what we do with each.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, status
from pydantic import ValidationError

from printcloud.server.accounts.deps import CanManage, CanPrint, CanRead
from printcloud.server.deps import SessionDep, SettingsDep
from printcloud.server.errors import BadRequest, NotFound, Unauthorized, describe_validation_errors
from printcloud.server.printnode import service
from printcloud.server.printnode.errors import PrintNodeRoute
from printcloud.server.printnode.repository import Page
from printcloud.server.printnode.schemas import PrintNodeJobIn
from printcloud.server.printnode.sets import IdSet, parse_set

PREFIX = "/printnode"
MAX_LIMIT = 1000
_CHILD_ACCOUNT_HEADERS = (
    "X-Child-Account-By-Id",
    "X-Child-Account-By-Email",
    "X-Child-Account-By-CreatorRef",
)
_OTHER_AUTH_HEADERS = ("X-Auth-With-Account-Credentials", "X-Auth-With-Client-Key")


async def refuse_what_we_lack(request: Request) -> None:
    """PrintNode's integrator accounts act for child accounts, and log in with a password
    or a client key: we have none of that, and say so rather than act on the parent."""
    for name in _CHILD_ACCOUNT_HEADERS:
        if name in request.headers:
            raise BadRequest(f"{name} is not supported: PrintCloud has no child accounts")
    for name in _OTHER_AUTH_HEADERS:
        if name in request.headers:
            raise Unauthorized(
                f"{name} is not supported: authenticate with an API key as the user name"
            )


router = APIRouter(
    prefix=PREFIX,
    route_class=PrintNodeRoute,
    include_in_schema=False,
    dependencies=[Depends(refuse_what_we_lack)],
)


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    after: Annotated[int | None, Query(ge=0)] = None,
    dir: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Page:
    return Page(limit=limit, after=after, descending=dir == "desc")


PageDep = Annotated[Page, Depends(page)]


def _computers(raw: str) -> IdSet:
    return parse_set(raw, "computer")


def _printers(raw: str) -> IdSet:
    return parse_set(raw, "printer")


def _jobs(raw: str) -> IdSet:
    return parse_set(raw, "print job")


@router.get("/whoami")
async def whoami(principal: CanRead, session: SessionDep) -> dict[str, Any]:
    return await service.whoami(session, principal)


@router.get("/computers")
async def computers(principal: CanRead, session: SessionDep, page: PageDep) -> list[Any]:
    return await service.computers(session, principal.account_id, page)


@router.get("/computers/{computer_set}")
async def computers_in_set(
    computer_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.computers(session, principal.account_id, page, _computers(computer_set))


@router.delete("/computers/{computer_set}")
async def delete_computers(
    computer_set: str, principal: CanManage, session: SessionDep
) -> list[int]:
    return await service.delete_computers(session, principal.account_id, _computers(computer_set))


@router.get("/printers")
async def printers(principal: CanRead, session: SessionDep, page: PageDep) -> list[Any]:
    return await service.printers(session, principal.account_id, page)


@router.get("/printers/{printer_set}")
async def printers_in_set(
    printer_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printers(session, principal.account_id, page, ids=_printers(printer_set))


@router.get("/computers/{computer_set}/printers")
async def printers_of_computers(
    computer_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printers(
        session, principal.account_id, page, computer_ids=_computers(computer_set)
    )


@router.get("/computers/{computer_set}/printers/{printer_set}")
async def printers_in_set_of_computers(
    computer_set: str, printer_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printers(
        session,
        principal.account_id,
        page,
        ids=_printers(printer_set),
        computer_ids=_computers(computer_set),
    )


@router.get("/printjobs")
async def printjobs(principal: CanRead, session: SessionDep, page: PageDep) -> list[Any]:
    return await service.printjobs(session, principal.account_id, page)


@router.get("/printjobs/states")
async def all_states(principal: CanRead, session: SessionDep, page: PageDep) -> list[Any]:
    return await service.states(session, principal.account_id, page)


@router.get("/printjobs/{job_set}")
async def printjobs_in_set(
    job_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printjobs(session, principal.account_id, page, ids=_jobs(job_set))


@router.get("/printjobs/{job_set}/states")
async def states_in_set(
    job_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.states(session, principal.account_id, page, _jobs(job_set))


@router.get("/printers/{printer_set}/printjobs")
async def printjobs_of_printers(
    printer_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printjobs(
        session, principal.account_id, page, printer_numbers=_printers(printer_set)
    )


@router.get("/printers/{printer_set}/printjobs/{job_set}")
async def printjobs_in_set_of_printers(
    printer_set: str, job_set: str, principal: CanRead, session: SessionDep, page: PageDep
) -> list[Any]:
    return await service.printjobs(
        session,
        principal.account_id,
        page,
        ids=_jobs(job_set),
        printer_numbers=_printers(printer_set),
    )


@router.post("/printjobs", status_code=status.HTTP_201_CREATED)
async def create_printjob(
    request: Request,
    principal: CanPrint,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="X-Idempotency-Key")] = None,
) -> int:
    # Read as JSON whatever its Content-Type says: PrintNode assumes JSON when none is
    # given, and its Python client sends none.
    try:
        raw = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(
            "The request body must be JSON (PrintNode's form encoding is not supported)"
        ) from exc
    if not isinstance(raw, dict):
        raise BadRequest("The request body must be a JSON object")
    try:
        body = PrintNodeJobIn.model_validate(raw)
    except ValidationError as exc:
        raise BadRequest(describe_validation_errors(exc.errors())) from exc
    # Some PrintNode clients send the header empty when they have no key: no key.
    key = idempotency_key or None
    return await service.submit(session, settings, principal.account_id, body, key)


@router.delete("/printjobs")
async def delete_all_printjobs(_: CanManage) -> list[Any]:
    raise BadRequest(
        "Name the print jobs to delete: DELETE /printjobs/<set> or /printers/<set>/printjobs"
    )


@router.delete("/printjobs/{job_set}")
async def delete_printjobs(job_set: str, principal: CanManage, session: SessionDep) -> list[int]:
    return await service.delete(session, principal.account_id, ids=_jobs(job_set))


@router.delete("/printers/{printer_set}/printjobs")
async def delete_printjobs_of_printers(
    printer_set: str, principal: CanManage, session: SessionDep
) -> list[int]:
    return await service.delete(
        session, principal.account_id, printer_numbers=_printers(printer_set)
    )


@router.delete("/printers/{printer_set}/printjobs/{job_set}")
async def delete_printjobs_in_set_of_printers(
    printer_set: str, job_set: str, principal: CanManage, session: SessionDep
) -> list[int]:
    return await service.delete(
        session,
        principal.account_id,
        ids=_jobs(job_set),
        printer_numbers=_printers(printer_set),
    )


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_offered(rest: str, request: Request) -> None:
    """PrintNode's other endpoints (credits, scales, accounts, tags, downloads...)."""
    raise NotFound(
        f"{request.method} /{rest} is not offered by PrintCloud's PrintNode-compatible API"
        " (see docs/printnode.md)"
    )
