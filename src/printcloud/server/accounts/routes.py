from __future__ import annotations

from fastapi import APIRouter, Request, status

from printcloud.server.accounts import service
from printcloud.server.accounts.deps import CanManage, CanRead
from printcloud.server.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    LoginOut,
    UserOut,
)
from printcloud.server.deps import PortsDep, SessionDep

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/client/login",
    response_model=LoginOut,
    summary="Get an API key from e-mail and password (no authentication)",
    description="Any user of the account may log in. [ext] The key is `full` for an "
    "owner of the account and `print_only` for a member.",
)
async def client_login(
    body: LoginIn, request: Request, session: SessionDep, ports: PortsDep
) -> LoginOut:
    address = request.client.host if request.client else "unknown"
    attempt = service.LoginAttempt(
        body.email, body.password, address, (body.key_description or "").strip() or None
    )
    user, api_key = await service.client_login(session, ports.limiter, ports.settings, attempt)
    return LoginOut(
        api_key=api_key,
        user=UserOut(
            id=user.id, first_name=user.first_name, last_name=user.last_name, email=user.email
        ),
    )


@router.post(
    "/account/apikeys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key (shown this once)",
)
async def create_api_key(
    body: ApiKeyIn, principal: CanManage, session: SessionDep
) -> ApiKeyCreated:
    row, secret = await service.create_api_key(
        session,
        account_id=principal.account_id,
        description=body.description,
        permission=body.permission,
    )
    return ApiKeyCreated(
        id=row.id,
        key=secret,
        description=row.description,
        permission=body.permission,
        created_at=row.created_at,
    )


@router.get(
    "/account/apikeys",
    response_model=list[ApiKeyOut],
    summary="List the account's API keys (never the keys themselves)",
)
async def list_api_keys(principal: CanRead, session: SessionDep) -> list[ApiKeyOut]:
    return [
        ApiKeyOut.model_validate(k) for k in await service.api_keys(session, principal.account_id)
    ]


@router.delete(
    "/account/apikeys/{key_id}",
    response_model=list[str],
    summary="Revoke an API key; it stops working at once",
)
async def revoke_api_key(key_id: str, principal: CanManage, session: SessionDep) -> list[str]:
    await service.revoke_api_key(session, principal.account_id, key_id)
    return [key_id]
