"""Who is calling the API, and whether their key's permission allows the call."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from printcloud.server import metrics
from printcloud.server.accounts import service
from printcloud.server.accounts.permissions import Action, allows
from printcloud.server.accounts.service import Principal
from printcloud.server.deps import PortsDep, SessionDep
from printcloud.server.errors import Forbidden, TooManyRequests, Unauthorized
from printcloud.server.ports import Ports


def api_key_from_header(authorization: str | None) -> str:
    """The API key of ``Authorization: Basic base64("pk_live_...:")``."""
    if not authorization:
        raise Unauthorized("Authentication required")
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        raise Unauthorized("Use HTTP Basic authentication with the API key as the user name")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("Malformed HTTP Basic credentials") from exc
    api_key = decoded.partition(":")[0].strip()
    if not api_key:
        raise Unauthorized("Authentication required")
    return api_key


async def _principal(request: Request, session: SessionDep, ports: PortsDep) -> Principal:
    principal = await service.authenticate(
        session, api_key_from_header(request.headers.get("authorization")), ports.principals
    )
    # The key is read (or was remembered): end that read, so the connection goes back to
    # the pool while the endpoint does what needs no database (a document's check, say).
    await session.commit()
    await count_request(ports, principal)
    return principal


async def count_request(ports: Ports, principal: Principal) -> None:
    """Count an API request against its account's rate; TooManyRequests past it."""
    await count_account_request(ports, principal.account_id)


async def count_account_request(ports: Ports, account_id: str) -> None:
    """Count a request of ``account_id`` made without a key (a printer's share link)
    against the account's one rate; TooManyRequests past it."""
    rate = ports.settings.api_rate
    decision = await ports.limiter.hit(f"api:{account_id}", rate)
    if not decision.allowed:
        metrics.RATE_LIMITED_BY_LIMIT[metrics.API].inc()
        raise TooManyRequests(
            f"Rate limit exceeded: {rate.count} requests per {rate.period:g} s per account",
            retry_after=decision.retry_after,
        )


def require(action: Action) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def check(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if not allows(principal.permission, action):
            raise Forbidden(
                f"This API key's permission ({principal.permission.value}) does not allow this"
            )
        return principal

    return check


CanRead = Annotated[Principal, Depends(require(Action.READ))]
CanPrint = Annotated[Principal, Depends(require(Action.PRINT))]
CanManage = Annotated[Principal, Depends(require(Action.MANAGE))]
