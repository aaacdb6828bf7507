"""What every dashboard page shares: the login, CSRF, rendering, errors as pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from printcloud.protocol.events import EventType
from printcloud.protocol.job_states import JobState
from printcloud.protocol.nul import described, first_nul
from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server.availability import DependencyUnavailable
from printcloud.server.dashboard import csrf, i18n, job_words, sessions
from printcloud.server.dashboard.sessions import WebLogin
from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import BadRequest, PrintCloudError, unavailable

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"

templates = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True),  # everything shown is escaped
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False)
# Every state a job, computer or printer can be in; the live script relabels with them.
STATES = (*JobState, *PrinterState)
templates.globals["state_labels"] = lambda t: {state: t(f"state.{state}") for state in STATES}
templates.globals["history_message"] = job_words.history_message
templates.globals["option_name"] = job_words.option_name
templates.globals["option_value"] = job_words.option_value
# The protocol's words the live script acts on, so that it spells none of its own.
templates.globals["live_words"] = {
    "jobCreated": EventType.JOB_CREATED,
    "jobState": EventType.JOB_STATE,
    "computerConnected": EventType.COMPUTER_CONNECTED,
    "computerDisconnected": EventType.COMPUTER_DISCONNECTED,
    "printerState": EventType.PRINTER_STATE,
    "online": ComputerState.ONLINE,
    "offline": ComputerState.OFFLINE,
}


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class OwnerRequired(Exception):
    """A member asked for what only an owner may do: a 403 page saying so."""


def render(
    request: Request,
    template: str,
    *,
    login: WebLogin | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = i18n.language(request)
    html = templates.get_template(template).render(
        request=request,
        lang=lang,
        dir=i18n.direction(lang),
        t=i18n.translator(lang),
        login=login,
        csrf_token=login.csrf_token if login else context.pop("prelogin_csrf", ""),
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    # Pages show account data: never kept by shared caches, never framed by other sites.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def safe_next(value: str | None) -> str:
    """Where to go after login: only a path of this site, never ``//evil`` or a URL."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


class DashboardRoute(APIRoute):
    """Dashboard errors are pages (or a redirect to login), not the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                await _refuse_nul_in_form(request)
                return await handler(request)
            except LoginRequired:
                if request.method != "GET":
                    return render(request, "error.html", status_code=401, message_key="error.login")
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return RedirectResponse(f"/login?next={target}", status_code=303)
            except RequestValidationError:
                return render(request, "error.html", status_code=400, message_key="error.generic")
            except (csrf.CsrfFailed, OwnerRequired) as refused:
                forged = isinstance(refused, csrf.CsrfFailed)
                key = "error.csrf" if forged else "error.owners_only"
                return render(request, "error.html", status_code=403, message_key=key)
            except (PrintCloudError, DependencyUnavailable) as caught:
                # The database away: a page saying so (503), as the API answers.
                exc = unavailable(caught) if isinstance(caught, DependencyUnavailable) else caught
                key = "error.not_found" if exc.status_code == 404 else "error.generic"
                page = render(
                    request,
                    "error.html",
                    status_code=exc.status_code,
                    message_key=key,
                    detail=exc.message if exc.status_code != 404 else "",
                )
                if "Retry-After" in exc.headers:
                    page.headers["Retry-After"] = exc.headers["Retry-After"]
                return page

        return handle


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _refuse_nul_in_form(request: Request) -> None:
    """The dashboard's forms under the rule of :mod:`printcloud.protocol.nul`, checked
    once for every form post. The form is parsed here for the endpoint too: Starlette
    keeps it on the request, and FastAPI's ``Form()`` fields read it from there."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if request.method != "POST" or content_type not in _FORMS:
        return
    name = first_nul((await request.form()).multi_items())
    if name is not None:
        raise BadRequest(described(name))


async def _login(request: Request, session: SessionDep, ports: PortsDep) -> WebLogin:
    login = await sessions.resume(session, ports.settings, request.cookies.get(sessions.COOKIE))
    if login is None:
        raise LoginRequired
    return login


async def _checked_login(request: Request, login: Annotated[WebLogin, Depends(_login)]) -> WebLogin:
    await csrf.check(request, login.csrf_token)
    return login


async def _owner(login: Annotated[WebLogin, Depends(_login)]) -> WebLogin:
    if not login.manages:
        raise OwnerRequired
    return login


async def _checked_owner(login: Annotated[WebLogin, Depends(_checked_login)]) -> WebLogin:
    if not login.manages:
        raise OwnerRequired
    return login


# A page view, and a form post (which must carry the session's CSRF token); the owner's
# versions refuse a member (checked on the server for every owner-only route, not only
# by hiding its links).
LoginDep = Annotated[WebLogin, Depends(_login)]
PostLoginDep = Annotated[WebLogin, Depends(_checked_login)]
OwnerDep = Annotated[WebLogin, Depends(_owner)]
PostOwnerDep = Annotated[WebLogin, Depends(_checked_owner)]
