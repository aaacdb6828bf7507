"""[ext] A printer's page: what it is and can do, its latest jobs, and how to print to it
from any computer's print dialog over IPP, with an API key or a share link of its own.

Every user of the account sees the page; its share link is managed by the account's
owners.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from printcloud.server.computers import service as computers
from printcloud.server.computers import share_tokens
from printcloud.server.dashboard import ipp_addresses, repository
from printcloud.server.dashboard.sessions import WebLogin
from printcloud.server.dashboard.web import DashboardRoute, LoginDep, PostOwnerDep, render
from printcloud.server.deps import SessionDep
from printcloud.server.install import server_url

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

RECENT_JOBS = 10


@router.get("/printers/{printer_id}")
async def printer_page(
    request: Request, printer_id: str, login: LoginDep, session: SessionDep
) -> Response:
    return await _page(request, printer_id, login, session)


@router.post("/printers/{printer_id}/share-token")
async def create_share_token(
    request: Request, printer_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    """Create the printer's share link, or replace the live one."""
    _, token = await share_tokens.create_share_token(
        session, login.account_id, printer_id, user_id=login.user_id
    )
    # Shown in this response only: never stored, never rendered again.
    return await _page(request, printer_id, login, session, new_token=token)


@router.post("/printers/{printer_id}/share-token/revoke")
async def revoke_share_token(
    request: Request, printer_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    await share_tokens.revoke_share_token(session, login.account_id, printer_id)
    return await _page(request, printer_id, login, session, notice_key="ipp.share_revoked")


async def _page(
    request: Request,
    printer_id: str,
    login: WebLogin,
    session: SessionDep,
    *,
    new_token: str | None = None,
    **context: Any,
) -> Response:
    [printer] = await computers.list_printers(session, login.account_id, [printer_id])
    computer = next(
        c
        for c in await computers.list_computers(session, login.account_id)
        if c.id == printer.computer_id
    )
    server = server_url(request)
    return render(
        request,
        "printer.html",
        login=login,
        printer=printer,
        computer=computer,
        jobs=await repository.jobs_page(
            session,
            login.account_id,
            state=None,
            printer_id=printer.id,
            before_seq=None,
            limit=RECENT_JOBS,
        ),
        ipp=ipp_addresses.print_address(server, printer.id),
        queue_name=ipp_addresses.queue_name(printer.name),
        share=await share_tokens.live_share_token(session, login.account_id, printer.id),
        new_share=ipp_addresses.share_address(server, new_token) if new_token else None,
        manages=login.manages,
        cursor=await repository.last_event_seq(session, login.account_id),
        **context,
    )
