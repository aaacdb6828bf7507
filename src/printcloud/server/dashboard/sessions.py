"""Dashboard logins: server-side sessions behind a random cookie token.

The cookie carries 32 random bytes; the database keeps only their SHA-256, so a
leaked database does not hand out logins. Logging out deletes the row, and a
password change deletes the user's other sessions. A login carries its user's role as
it is at each request, read with the session, so a changed role applies at once and a
removed user's sessions are gone with them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from printcloud.server.accounts import roles
from printcloud.server.dashboard import repository
from printcloud.server.db.models import User, WebSession
from printcloud.server.db.types import utcnow
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

COOKIE = "printcloud_session"
# Writing last_seen_at on every page view would make each read a write.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class WebLogin:
    """Who is looking at the dashboard."""

    session_id: str
    user_id: str
    account_id: str
    csrf_token: str
    role: str

    @property
    def manages(self) -> bool:
        """An owner: the account's keys, webhooks and users are theirs to manage."""
        return roles.manages(self.role)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(session: AsyncSession, settings: Settings, user: User) -> tuple[WebLogin, str]:
    """A new session for ``user``: the login, and the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        id=_hash(token),
        user_id=user.id,
        account_id=user.account_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_lifetime),
    )
    # Expired rows never authenticate; the retention sweep deletes them.
    await repository.add_session(session, row)
    log.info("web_login", user_id=user.id, account_id=user.account_id)
    return WebLogin(row.id, row.user_id, row.account_id, row.csrf_token, user.role), token


async def resume(session: AsyncSession, settings: Settings, token: str | None) -> WebLogin | None:
    """The login behind a cookie token, or None when it is missing, unknown or expired."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    found = await repository.web_session(session, _hash(token), now)
    if found is None:
        return None
    row, role = found
    if now - row.last_seen_at >= _TOUCH_EVERY:
        expires = now + timedelta(seconds=settings.session_lifetime)
        await repository.touch_session(session, row.id, now, expires)
    return WebLogin(row.id, row.user_id, row.account_id, row.csrf_token, role)


async def still_valid(session: AsyncSession, login: WebLogin) -> bool:
    return await repository.web_session(session, login.session_id, utcnow()) is not None


async def end(session: AsyncSession, login: WebLogin) -> None:
    await repository.delete_session(session, login.session_id)
    log.info("web_logout", user_id=login.user_id)


async def end_others(session: AsyncSession, login: WebLogin) -> None:
    await repository.delete_other_sessions(session, login.user_id, keep=login.session_id)


def set_cookie(request: Request, response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_lifetime),
        httponly=True,
        samesite="lax",
        # Behind a TLS proxy the scheme is https when forwarded_allow_ips trusts it.
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


async def signed_in(
    request: Request, session: AsyncSession, settings: Settings, user: User, target: str
) -> Response:
    """A new session for ``user``, and the browser sent on to ``target`` with its cookie."""
    _, token = await start(session, settings, user)
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, settings, token)
    return response
