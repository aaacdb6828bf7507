from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from printcloud.server.accounts.deps import CanManage, CanRead
from printcloud.server.deps import SessionDep, SettingsDep
from printcloud.server.webhooks import service
from printcloud.server.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = APIRouter(prefix="/api", tags=["webhooks"])


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    response_model_exclude_none=True,
    summary="Subscribe a URL to events",
)
async def create_webhook(
    body: WebhookIn, principal: CanManage, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    webhook, generated = await service.create(
        session, principal.account_id, body, allow_private_urls=settings.allow_private_urls
    )
    out = WebhookCreated.model_validate(webhook)
    return out.model_copy(update={"secret": webhook.secret if generated else None})


@router.get("/webhooks", response_model=list[WebhookOut], summary="[ext] List webhooks")
async def list_webhooks(principal: CanRead, session: SessionDep) -> list[WebhookOut]:
    return [
        WebhookOut.model_validate(w)
        for w in await service.list_webhooks(session, principal.account_id)
    ]


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, summary="[ext] One webhook")
async def get_webhook(webhook_id: str, principal: CanRead, session: SessionDep) -> WebhookOut:
    return WebhookOut.model_validate(await service.get(session, principal.account_id, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    response_model=list[str],
    summary="[ext] Delete a webhook; answers its id",
)
async def delete_webhook(webhook_id: str, principal: CanManage, session: SessionDep) -> list[str]:
    await service.delete(session, principal.account_id, webhook_id)
    return [webhook_id]


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="[ext] A webhook's recent deliveries, newest first, with every attempt",
)
async def list_deliveries(
    webhook_id: str,
    principal: CanRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[
        str | None,
        Query(max_length=40, description="A delivery id: the deliveries older than it"),
    ] = None,
) -> list[DeliveryOut]:
    return await service.list_deliveries(session, principal.account_id, webhook_id, limit, after)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_201_CREATED,
    response_model=list[str],
    summary="[ext] Send a delivery's event again; answers the new delivery's id",
)
async def replay_delivery(
    webhook_id: str, delivery_id: str, principal: CanManage, session: SessionDep
) -> list[str]:
    again = await service.replay(session, principal.account_id, webhook_id, delivery_id)
    return [again.id]


@router.post(
    "/webhooks/{webhook_id}/enable",
    response_model=WebhookOut,
    summary="[ext] Re-enable a disabled webhook",
)
async def enable_webhook(webhook_id: str, principal: CanManage, session: SessionDep) -> WebhookOut:
    return WebhookOut.model_validate(
        await service.enable(session, principal.account_id, webhook_id)
    )
