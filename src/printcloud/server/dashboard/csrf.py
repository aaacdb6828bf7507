"""Cross-site request forgery: every state-changing request must prove it came from us.

Two checks, both required: an ``Origin`` header, when the browser sends one, must be
this site; and the request must carry the session's CSRF token (a hidden form field,
or the ``X-CSRF-Token`` header for script requests). Before login there is no
session, so the login and sign-up forms use a random token in a cookie instead
(double submit): a forged form can make the browser send the cookie, but cannot
read it to put it in the form.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

FIELD = "csrf_token"
HEADER = "x-csrf-token"
PRELOGIN_COOKIE = "printcloud_csrf"


class CsrfFailed(Exception):
    """The request did not prove it came from a page of this site."""


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # older browsers and non-browser clients; the token still decides
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return hmac.compare_digest(origin.lower().encode(), own.lower().encode())


async def submitted_token(request: Request) -> str:
    header = request.headers.get(HEADER)
    if header:
        return header
    form = await request.form()  # parsed once: the endpoint's Form() fields reuse it
    value = form.get(FIELD)
    return value if isinstance(value, str) else ""


async def check(request: Request, expected: str) -> None:
    given = await submitted_token(request)
    if not same_origin(request) or not given or not expected:
        raise CsrfFailed
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfFailed


def prelogin_token(request: Request) -> str:
    """The login form's token: the cookie's when the browser has one, else a new one."""
    existing = request.cookies.get(PRELOGIN_COOKIE, "")
    return existing if 20 <= len(existing) <= 100 else secrets.token_urlsafe(32)


def set_prelogin_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        PRELOGIN_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
