"""Sign-up, login, logout, password change and the language switch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from printcloud.server import metrics
from printcloud.server.accounts import service as accounts
from printcloud.server.dashboard import csrf, i18n, sessions
from printcloud.server.dashboard.web import (
    DashboardRoute,
    LoginDep,
    PostLoginDep,
    render,
    safe_next,
)
from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import BadRequest, TooManyRequests, Unauthorized, retry_after_seconds

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def prelogin_page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> Response:
    token = csrf.prelogin_token(request)
    response = render(request, template, status_code=status_code, prelogin_csrf=token, **context)
    csrf.set_prelogin_cookie(request, response, token)
    return response


async def check_prelogin(request: Request) -> None:
    await csrf.check(request, request.cookies.get(csrf.PRELOGIN_COOKIE, ""))


@router.get("/login")
async def login_page(request: Request, ports: PortsDep, next: str = "/") -> Response:
    return prelogin_page(
        request, "login.html", next=safe_next(next), signup=ports.settings.signup_enabled
    )


@router.post("/login")
async def login(
    request: Request,
    *,
    session: SessionDep,
    ports: PortsDep,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1024),
    next: str = Form("/"),
) -> Response:
    await check_prelogin(request)
    try:
        # The same check, and the same failure budget, as POST /api/client/login.
        attempt = accounts.LoginAttempt(email, password, client_address(request))
        user = await accounts.check_login(session, ports.limiter, ports.settings, attempt)
    except (Unauthorized, TooManyRequests) as exc:
        throttled = isinstance(exc, TooManyRequests)
        return prelogin_page(
            request,
            "login.html",
            status_code=429 if throttled else 401,
            error_key="login.throttled" if throttled else "login.failed",
            email=email,
            next=safe_next(next),
            signup=ports.settings.signup_enabled,
        )
    return await sessions.signed_in(request, session, ports.settings, user, safe_next(next))


@router.get("/signup")
async def signup_page(request: Request, ports: PortsDep) -> Response:
    if not ports.settings.signup_enabled:
        return render(request, "signup_disabled.html", status_code=404)
    return prelogin_page(request, "signup.html")


@router.post("/signup")
async def signup(
    request: Request,
    *,
    session: SessionDep,
    ports: PortsDep,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1024),
    first_name: str = Form("", max_length=100),
    last_name: str = Form("", max_length=100),
) -> Response:
    if not ports.settings.signup_enabled:
        return render(request, "signup_disabled.html", status_code=404)
    await check_prelogin(request)
    # Every attempt counts, the failed ones too: each answers whether an e-mail has an
    # account, and each that succeeds makes an account, with its API keys and budgets.
    allowed = await ports.limiter.hit(
        f"signup:addr:{client_address(request)}", ports.settings.signup_rate
    )
    if not allowed.allowed:
        metrics.RATE_LIMITED_BY_LIMIT[metrics.SIGNUP].inc()
        response = prelogin_page(
            request,
            "signup.html",
            status_code=429,
            error_key="signup.throttled",
            email=email,
            first_name=first_name,
            last_name=last_name,
        )
        response.headers["Retry-After"] = str(retry_after_seconds(allowed.retry_after))
        return response
    try:
        user = await accounts.create_user(
            session, email=email, password=password, first_name=first_name, last_name=last_name
        )
    except BadRequest as exc:
        await session.rollback()
        return prelogin_page(
            request,
            "signup.html",
            status_code=400,
            error=exc.message,
            email=email,
            first_name=first_name,
            last_name=last_name,
        )
    return await sessions.signed_in(request, session, ports.settings, user, "/")


@router.post("/logout")
async def logout(login: PostLoginDep, session: SessionDep) -> Response:
    await sessions.end(session, login)
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_cookie(response)
    return response


@router.get("/account/password")
async def password_page(request: Request, login: LoginDep) -> Response:
    return render(request, "password.html", login=login)


@router.post("/account/password")
async def change_password(
    request: Request,
    login: PostLoginDep,
    session: SessionDep,
    current_password: str = Form("", max_length=1024),
    new_password: str = Form("", max_length=1024),
) -> Response:
    user = await accounts.user_by_id(session, login.user_id)
    assert user is not None  # the session row is deleted with its user
    try:
        await accounts.change_password(
            session, user, current_password=current_password, new_password=new_password
        )
    except Unauthorized:
        return render(
            request, "password.html", login=login, status_code=400, error_key="password.wrong"
        )
    except BadRequest as exc:
        return render(
            request,
            "password.html",
            login=login,
            status_code=400,
            error_key="password.weak",
            detail=exc.message,
        )
    await sessions.end_others(session, login)
    return render(request, "password.html", login=login, notice_key="password.changed")


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response
