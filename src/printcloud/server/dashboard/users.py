"""The owners' users page: who is in the account, invitations, roles, removal, and a
password-reset link an owner hands on. Every route here is an owner's (``OwnerDep``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from printcloud.server import metrics
from printcloud.server.accounts import service as accounts
from printcloud.server.accounts import team
from printcloud.server.accounts.roles import Role
from printcloud.server.dashboard import i18n, mails
from printcloud.server.dashboard.sessions import WebLogin
from printcloud.server.dashboard.web import DashboardRoute, OwnerDep, PostOwnerDep, render
from printcloud.server.db.uow import commit
from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import BadRequest, retry_after_seconds
from printcloud.server.mail import Mail, MailFailed
from printcloud.server.ports import Ports

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

ROLES = [r.value for r in Role]


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise BadRequest(f"role: {value!r} is not a role") from exc


async def _page(
    request: Request,
    login: WebLogin,
    session: AsyncSession,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        "users.html",
        login=login,
        status_code=status_code,
        users=await team.users(session, login.account_id),
        invites=await team.pending_invites(session, login.account_id),
        roles=ROLES,
        **context,
    )


@router.get("/users")
async def user_list(request: Request, login: OwnerDep, session: SessionDep) -> Response:
    return await _page(request, login, session, notice_key=_done(request))


def _done(request: Request) -> str | None:
    done = request.query_params.get("done")
    return f"users.{done}" if done in ("role_changed", "removed", "invite_cancelled") else None


async def _throttled(
    request: Request, login: WebLogin, session: AsyncSession, ports: Ports
) -> Response | None:
    """The 429 page once the account's owners made too many links, else None."""
    decision = await ports.limiter.hit(
        f"links:account:{login.account_id}", ports.settings.account_links_rate
    )
    if decision.allowed:
        return None
    metrics.RATE_LIMITED_BY_LIMIT[metrics.ACCOUNT_LINKS].inc()
    page = await _page(request, login, session, status_code=429, error_key="users.throttled")
    page.headers["Retry-After"] = str(retry_after_seconds(decision.retry_after))
    return page


@router.post("/users/invite")
async def invite(
    request: Request,
    *,
    login: PostOwnerDep,
    session: SessionDep,
    ports: PortsDep,
    email: str = Form("", max_length=320),
    role: str = Form(Role.MEMBER.value),
) -> Response:
    throttled = await _throttled(request, login, session, ports)
    if throttled is not None:
        return throttled
    try:
        link = await team.invite(session, login.account_id, email, _role(role))
    except BadRequest as exc:
        return await _page(
            request,
            login,
            session,
            status_code=400,
            error_key="users.invite_failed",
            error=exc.message,
            email=email,
        )
    # Committed before anyone hears of it: the link works by the time it arrives.
    await commit(session)
    url = mails.link(request, ports.settings, f"/invite/{link.token}")
    t = i18n.translator(i18n.language(request))

    async def message() -> Mail:
        inviter = await accounts.user_by_id(session, login.user_id)
        return mails.invite(t, link.email, url, inviter.email if inviter else "")

    return await _send_or_show(
        request,
        login,
        session,
        ports,
        email=link.email,
        url=url,
        link_key="users.invite_link",
        message=message,
    )


@router.post("/users/invites/{invite_id}/cancel")
async def cancel_invite(invite_id: str, login: PostOwnerDep, session: SessionDep) -> Response:
    await team.cancel_invite(session, login.account_id, invite_id)
    return RedirectResponse("/users?done=invite_cancelled", status_code=303)


@router.post("/users/{user_id}/role")
async def change_role(
    request: Request,
    user_id: str,
    login: PostOwnerDep,
    session: SessionDep,
    role: str = Form(""),
) -> Response:
    try:
        await team.change_role(session, login.account_id, user_id, _role(role))
    except team.LastOwner:
        return await _page(request, login, session, status_code=409, error_key="users.last_owner")
    return RedirectResponse("/users?done=role_changed", status_code=303)


@router.post("/users/{user_id}/remove")
async def remove(
    request: Request, user_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    try:
        await team.remove(session, login.account_id, user_id)
    except team.LastOwner:
        return await _page(request, login, session, status_code=409, error_key="users.last_owner")
    return RedirectResponse("/users?done=removed", status_code=303)


@router.post("/users/{user_id}/reset-link")
async def reset_link(
    request: Request, user_id: str, login: PostOwnerDep, session: SessionDep, ports: PortsDep
) -> Response:
    throttled = await _throttled(request, login, session, ports)
    if throttled is not None:
        return throttled
    link = await team.reset_link_for(session, login.account_id, user_id)
    await commit(session)
    url = mails.link(request, ports.settings, f"/password/reset/{link.token}")
    t = i18n.translator(i18n.language(request))

    async def message() -> Mail:
        return mails.reset(t, link.email, url)

    return await _send_or_show(
        request,
        login,
        session,
        ports,
        email=link.email,
        url=url,
        link_key="users.reset_link",
        message=message,
    )


async def _send_or_show(
    request: Request,
    login: WebLogin,
    session: AsyncSession,
    ports: Ports,
    *,
    email: str,
    url: str,
    link_key: str,
    message: Callable[[], Awaitable[Mail]],
) -> Response:
    """Mail ``url`` to ``email``; without SMTP, or when the mail fails (the owner is
    told why), show it to the owner to pass on another way."""
    shown: dict[str, Any] = {"shown_link": url, "shown_link_key": link_key, "shown_for": email}
    if not ports.mailer.configured:
        return await _page(request, login, session, **shown)
    try:
        await ports.mailer.send(await message())
    except MailFailed as exc:
        return await _page(
            request,
            login,
            session,
            status_code=502,
            error_key="users.mail_failed",
            error=exc.reason,
            **shown,
        )
    return await _page(request, login, session, sent_to=email)
