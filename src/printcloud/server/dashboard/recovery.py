"""The pages a single-use link opens, before any login: accepting an invitation, and
"forgot password" with the reset it mails."""

from __future__ import annotations

import contextlib

import structlog
from fastapi import APIRouter, Form, Request
from starlette.background import BackgroundTask
from starlette.responses import Response

from printcloud.server import metrics
from printcloud.server.accounts import service as accounts
from printcloud.server.accounts import team
from printcloud.server.accounts.links import Purpose
from printcloud.server.dashboard import i18n, mails, sessions
from printcloud.server.dashboard.auth import check_prelogin, client_address, prelogin_page
from printcloud.server.dashboard.web import DashboardRoute, render
from printcloud.server.db.uow import commit
from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import BadRequest, retry_after_seconds
from printcloud.server.mail import Mail, Mailer, MailFailed

log = structlog.get_logger(__name__)

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def _unusable(request: Request) -> Response:
    return render(request, "error.html", status_code=410, message_key="link.unusable")


@router.get("/invite/{token}")
async def invite_page(request: Request, token: str, session: SessionDep) -> Response:
    try:
        row = await team.usable_link(session, token, Purpose.INVITE)
    except team.LinkNotUsable:
        return _unusable(request)
    return prelogin_page(request, "invite.html", token=token, email=row.email)


@router.post("/invite/{token}")
async def accept_invite(
    request: Request,
    token: str,
    *,
    session: SessionDep,
    ports: PortsDep,
    first_name: str = Form("", max_length=100),
    last_name: str = Form("", max_length=100),
    password: str = Form("", max_length=1024),
) -> Response:
    await check_prelogin(request)
    try:
        user = await team.accept_invite(
            session, token, password=password, first_name=first_name, last_name=last_name
        )
    except team.LinkNotUsable:
        return _unusable(request)
    except BadRequest as exc:
        await session.rollback()
        row = await team.usable_link(session, token, Purpose.INVITE)
        return prelogin_page(
            request,
            "invite.html",
            status_code=400,
            token=token,
            email=row.email,
            error=exc.message,
            first_name=first_name,
            last_name=last_name,
        )
    return await sessions.signed_in(request, session, ports.settings, user, "/")


@router.get("/password/forgot")
async def forgot_page(request: Request, ports: PortsDep) -> Response:
    return prelogin_page(request, "forgot.html", mail=ports.mailer.configured)


@router.post("/password/forgot")
async def forgot(
    request: Request,
    *,
    session: SessionDep,
    ports: PortsDep,
    email: str = Form("", max_length=320),
) -> Response:
    await check_prelogin(request)
    if not ports.mailer.configured:
        return prelogin_page(request, "forgot.html", mail=False)
    settings = ports.settings
    address = accounts.normalize_email(email)
    # Counted for every address, known or not, so that a refusal tells nothing either.
    for key, rate in (
        (f"reset:addr:{client_address(request)}", settings.reset_address_rate),
        (f"reset:email:{address}", settings.reset_email_rate),
    ):
        decision = await ports.limiter.hit(key, rate)
        if not decision.allowed:
            metrics.RATE_LIMITED_BY_LIMIT[metrics.RESET_REQUESTS].inc()
            page = prelogin_page(
                request, "forgot.html", status_code=429, mail=True, error_key="forgot.throttled"
            )
            page.headers["Retry-After"] = str(retry_after_seconds(decision.retry_after))
            return page
    link = await team.reset_link_by_email(session, address)
    await commit(session)
    # The same page for a known and an unknown address; the mail goes out after the
    # answer, so neither does the time it takes tell them apart.
    page = prelogin_page(request, "forgot.html", mail=True, notice_key="forgot.sent")
    if link is not None:
        url = mails.link(request, settings, f"/password/reset/{link.token}")
        t = i18n.translator(i18n.language(request))
        page.background = BackgroundTask(_send, ports.mailer, mails.reset(t, link.email, url))
    return page


async def _send(mailer: Mailer, mail: Mail) -> None:
    # Logged by the mailer; the person asking is not told, by design.
    with contextlib.suppress(MailFailed):
        await mailer.send(mail)


@router.get("/password/reset/{token}")
async def reset_page(request: Request, token: str, session: SessionDep) -> Response:
    try:
        await team.usable_link(session, token, Purpose.RESET)
    except team.LinkNotUsable:
        return _unusable(request)
    return prelogin_page(request, "reset.html", token=token)


@router.post("/password/reset/{token}")
async def reset(
    request: Request,
    token: str,
    *,
    session: SessionDep,
    ports: PortsDep,
    new_password: str = Form("", max_length=1024),
) -> Response:
    await check_prelogin(request)
    try:
        user = await team.reset_password(session, token, new_password)
    except team.LinkNotUsable:
        return _unusable(request)
    except BadRequest as exc:
        return prelogin_page(
            request,
            "reset.html",
            status_code=400,
            token=token,
            error_key="password.weak",
            detail=exc.message,
        )
    # Every other session of the user ended with the reset; this browser starts anew.
    return await sessions.signed_in(request, session, ports.settings, user, "/")
