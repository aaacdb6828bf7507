"""The API's resources (``client.jobs``, ``client.printers``...), sync and async."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Literal, Protocol
from urllib.parse import quote

from pydantic import TypeAdapter

from printcloud.client._exceptions import NotFoundError
from printcloud.client._models import (
    ApiKey,
    ApiKeyCreated,
    Computer,
    Delivery,
    Job,
    JobState,
    Printer,
    Webhook,
    WebhookCreated,
)

Direction = Literal["asc", "desc"]
Permission = Literal["full", "print_only", "read_only"]

_PRINTERS = TypeAdapter(list[Printer])
_COMPUTERS = TypeAdapter(list[Computer])
_JOBS = TypeAdapter(list[Job])
_STATES = TypeAdapter(list[JobState])
_WEBHOOKS = TypeAdapter(list[Webhook])
_API_KEYS = TypeAdapter(list[ApiKey])
_DELIVERIES = TypeAdapter(list[Delivery])
_IDS = TypeAdapter(list[str])
_ID = TypeAdapter(str)


class _Sync(Protocol):
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any: ...


class _Async(Protocol):
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Awaitable[Any]: ...


def _ids(ids: str | Sequence[str]) -> str:
    """One id, or several joined by commas, quoted for the path."""
    joined = ids if isinstance(ids, str) else ",".join(ids)
    if not joined:
        raise ValueError("at least one id is needed")
    return quote(joined, safe=",")


def _one(value: str) -> str:
    if not value:
        raise ValueError("an id is needed")
    return quote(value, safe="")


def _job_body(
    *,
    printer_id: str,
    content_type: str,
    content: str,
    title: str | None,
    qty: int | None,
    options: Mapping[str, Any] | None,
    expire_after: int | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "printerId": printer_id,
        "contentType": content_type,
        "content": content,
    }
    if title is not None:
        body["title"] = title
    if qty is not None:
        body["qty"] = qty
    if options:
        body["options"] = dict(options)
    if expire_after is not None:
        body["expireAfter"] = expire_after
    return body


def _list_params(limit: int, dir: Direction, after: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "dir": dir}
    if after is not None:
        params["after"] = after
    return params


def _first_job(jobs: list[Job], job_id: str) -> Job:
    if not jobs:
        raise NotFoundError(f"print job {job_id} not found", "NotFound", 404)
    return jobs[0]


def _webhook_body(url: str, events: Sequence[str], secret: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "events": list(events)}
    if secret is not None:
        body["secret"] = secret
    return body


# -- sync -------------------------------------------------------------------------


class Printers:
    def __init__(self, client: _Sync) -> None:
        self._client = client

    def list(self) -> builtins.list[Printer]:
        """Every printer of the account."""
        return _PRINTERS.validate_python(self._client._request("GET", "/api/printers"))

    def get(self, ids: str | Sequence[str]) -> builtins.list[Printer]:
        """The printers with these ids (NotFoundError when none exists)."""
        return _PRINTERS.validate_python(self._client._request("GET", f"/api/printers/{_ids(ids)}"))


class Computers:
    def __init__(self, client: _Sync) -> None:
        self._client = client

    def list(self) -> builtins.list[Computer]:
        """Every computer of the account, with its printers."""
        return _COMPUTERS.validate_python(self._client._request("GET", "/api/computers"))

    def delete(self, ids: str | Sequence[str]) -> builtins.list[str]:
        """Delete computers (and their printers); the ids deleted."""
        answer = self._client._request("DELETE", f"/api/computers/{_ids(ids)}")
        return _IDS.validate_python(answer)


class Jobs:
    def __init__(self, client: _Sync) -> None:
        self._client = client

    def create(
        self,
        *,
        printer_id: str,
        content_type: str,
        content: str,
        title: str | None = None,
        qty: int | None = None,
        options: Mapping[str, Any] | None = None,
        expire_after: int | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Create a print job; its id. Safe to retry: it always sends an Idempotency-Key."""
        body = _job_body(
            printer_id=printer_id,
            content_type=content_type,
            content=content,
            title=title,
            qty=qty,
            options=options,
            expire_after=expire_after,
        )
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        answer = self._client._request("POST", "/api/printjobs", json=body, headers=headers)
        return _ID.validate_python(answer)

    def list(
        self, limit: int = 100, dir: Direction = "desc", after: str | None = None
    ) -> builtins.list[Job]:
        """The job history, newest first by default; ``after`` pages on from a job id."""
        params = _list_params(limit, dir, after)
        return _JOBS.validate_python(self._client._request("GET", "/api/printjobs", params=params))

    def get(self, job_id: str) -> Job:
        """One job."""
        answer = self._client._request("GET", f"/api/printjobs/{_one(job_id)}")
        return _first_job(_JOBS.validate_python(answer), job_id)

    def states(self, job_id: str) -> builtins.list[JobState]:
        """A job's states, oldest first."""
        answer = self._client._request("GET", f"/api/printjobs/{_one(job_id)}/states")
        return _STATES.validate_python(answer)

    def delete(self, ids: str | Sequence[str]) -> builtins.list[str]:
        """Delete jobs from the history; the ids deleted."""
        answer = self._client._request("DELETE", f"/api/printjobs/{_ids(ids)}")
        return _IDS.validate_python(answer)


class Webhooks:
    def __init__(self, client: _Sync) -> None:
        self._client = client

    def create(
        self, *, url: str, events: Sequence[str], secret: str | None = None
    ) -> WebhookCreated:
        """Subscribe ``url`` to ``events``; the secret is generated when omitted."""
        answer = self._client._request(
            "POST", "/api/webhooks", json=_webhook_body(url, events, secret)
        )
        return WebhookCreated.model_validate(answer)

    def list(self) -> builtins.list[Webhook]:
        """Every webhook of the account."""
        return _WEBHOOKS.validate_python(self._client._request("GET", "/api/webhooks"))

    def delete(self, webhook_id: str) -> builtins.list[str]:
        """Delete a webhook; the ids deleted."""
        answer = self._client._request("DELETE", f"/api/webhooks/{_one(webhook_id)}")
        return _IDS.validate_python(answer)

    def get(self, webhook_id: str) -> Webhook:
        """One webhook, with why it was disabled if it was."""
        answer = self._client._request("GET", f"/api/webhooks/{_one(webhook_id)}")
        return Webhook.model_validate(answer)

    def deliveries(self, webhook_id: str, limit: int = 50) -> builtins.list[Delivery]:
        """The webhook's recent deliveries, newest first, each with its attempts."""
        answer = self._client._request(
            "GET", f"/api/webhooks/{_one(webhook_id)}/deliveries", params={"limit": limit}
        )
        return _DELIVERIES.validate_python(answer)

    def replay(self, webhook_id: str, delivery_id: str) -> str:
        """Send a delivery's event again; the new delivery's id."""
        path = f"/api/webhooks/{_one(webhook_id)}/deliveries/{_one(delivery_id)}/replay"
        return _IDS.validate_python(self._client._request("POST", path))[0]

    def enable(self, webhook_id: str) -> Webhook:
        """Turn a disabled webhook back on."""
        answer = self._client._request("POST", f"/api/webhooks/{_one(webhook_id)}/enable")
        return Webhook.model_validate(answer)


class ApiKeys:
    def __init__(self, client: _Sync) -> None:
        self._client = client

    def create(self, description: str = "", permission: Permission = "full") -> ApiKeyCreated:
        """A new API key; the key itself is in the answer, this once."""
        body = {"description": description, "permission": permission}
        answer = self._client._request("POST", "/api/account/apikeys", json=body)
        return ApiKeyCreated.model_validate(answer)

    def list(self) -> builtins.list[ApiKey]:
        """Every API key of the account, with a prefix, never the key."""
        return _API_KEYS.validate_python(self._client._request("GET", "/api/account/apikeys"))

    def revoke(self, key_id: str) -> builtins.list[str]:
        """Revoke an API key; the ids revoked."""
        answer = self._client._request("DELETE", f"/api/account/apikeys/{_one(key_id)}")
        return _IDS.validate_python(answer)


# -- async ------------------------------------------------------------------------


class AsyncPrinters:
    def __init__(self, client: _Async) -> None:
        self._client = client

    async def list(self) -> builtins.list[Printer]:
        """Every printer of the account."""
        return _PRINTERS.validate_python(await self._client._request("GET", "/api/printers"))

    async def get(self, ids: str | Sequence[str]) -> builtins.list[Printer]:
        """The printers with these ids (NotFoundError when none exists)."""
        answer = await self._client._request("GET", f"/api/printers/{_ids(ids)}")
        return _PRINTERS.validate_python(answer)


class AsyncComputers:
    def __init__(self, client: _Async) -> None:
        self._client = client

    async def list(self) -> builtins.list[Computer]:
        """Every computer of the account, with its printers."""
        return _COMPUTERS.validate_python(await self._client._request("GET", "/api/computers"))

    async def delete(self, ids: str | Sequence[str]) -> builtins.list[str]:
        """Delete computers (and their printers); the ids deleted."""
        answer = await self._client._request("DELETE", f"/api/computers/{_ids(ids)}")
        return _IDS.validate_python(answer)


class AsyncJobs:
    def __init__(self, client: _Async) -> None:
        self._client = client

    async def create(
        self,
        *,
        printer_id: str,
        content_type: str,
        content: str,
        title: str | None = None,
        qty: int | None = None,
        options: Mapping[str, Any] | None = None,
        expire_after: int | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Create a print job; its id. Safe to retry: it always sends an Idempotency-Key."""
        body = _job_body(
            printer_id=printer_id,
            content_type=content_type,
            content=content,
            title=title,
            qty=qty,
            options=options,
            expire_after=expire_after,
        )
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        answer = await self._client._request("POST", "/api/printjobs", json=body, headers=headers)
        return _ID.validate_python(answer)

    async def list(
        self,
        limit: int = 100,
        dir: Direction = "desc",
        after: str | None = None,
    ) -> builtins.list[Job]:
        """The job history, newest first by default; ``after`` pages on from a job id."""
        params = _list_params(limit, dir, after)
        answer = await self._client._request("GET", "/api/printjobs", params=params)
        return _JOBS.validate_python(answer)

    async def get(self, job_id: str) -> Job:
        """One job."""
        answer = await self._client._request("GET", f"/api/printjobs/{_one(job_id)}")
        return _first_job(_JOBS.validate_python(answer), job_id)

    async def states(self, job_id: str) -> builtins.list[JobState]:
        """A job's states, oldest first."""
        answer = await self._client._request("GET", f"/api/printjobs/{_one(job_id)}/states")
        return _STATES.validate_python(answer)

    async def delete(self, ids: str | Sequence[str]) -> builtins.list[str]:
        """Delete jobs from the history; the ids deleted."""
        answer = await self._client._request("DELETE", f"/api/printjobs/{_ids(ids)}")
        return _IDS.validate_python(answer)


class AsyncWebhooks:
    def __init__(self, client: _Async) -> None:
        self._client = client

    async def create(
        self, *, url: str, events: Sequence[str], secret: str | None = None
    ) -> WebhookCreated:
        """Subscribe ``url`` to ``events``; the secret is generated when omitted."""
        answer = await self._client._request(
            "POST", "/api/webhooks", json=_webhook_body(url, events, secret)
        )
        return WebhookCreated.model_validate(answer)

    async def list(self) -> builtins.list[Webhook]:
        """Every webhook of the account."""
        return _WEBHOOKS.validate_python(await self._client._request("GET", "/api/webhooks"))

    async def delete(self, webhook_id: str) -> builtins.list[str]:
        """Delete a webhook; the ids deleted."""
        answer = await self._client._request("DELETE", f"/api/webhooks/{_one(webhook_id)}")
        return _IDS.validate_python(answer)

    async def get(self, webhook_id: str) -> Webhook:
        """One webhook, with why it was disabled if it was."""
        answer = await self._client._request("GET", f"/api/webhooks/{_one(webhook_id)}")
        return Webhook.model_validate(answer)

    async def deliveries(self, webhook_id: str, limit: int = 50) -> builtins.list[Delivery]:
        """The webhook's recent deliveries, newest first, each with its attempts."""
        answer = await self._client._request(
            "GET", f"/api/webhooks/{_one(webhook_id)}/deliveries", params={"limit": limit}
        )
        return _DELIVERIES.validate_python(answer)

    async def replay(self, webhook_id: str, delivery_id: str) -> str:
        """Send a delivery's event again; the new delivery's id."""
        path = f"/api/webhooks/{_one(webhook_id)}/deliveries/{_one(delivery_id)}/replay"
        return _IDS.validate_python(await self._client._request("POST", path))[0]

    async def enable(self, webhook_id: str) -> Webhook:
        """Turn a disabled webhook back on."""
        answer = await self._client._request("POST", f"/api/webhooks/{_one(webhook_id)}/enable")
        return Webhook.model_validate(answer)


class AsyncApiKeys:
    def __init__(self, client: _Async) -> None:
        self._client = client

    async def create(self, description: str = "", permission: Permission = "full") -> ApiKeyCreated:
        """A new API key; the key itself is in the answer, this once."""
        body = {"description": description, "permission": permission}
        answer = await self._client._request("POST", "/api/account/apikeys", json=body)
        return ApiKeyCreated.model_validate(answer)

    async def list(self) -> builtins.list[ApiKey]:
        """Every API key of the account, with a prefix, never the key."""
        answer = await self._client._request("GET", "/api/account/apikeys")
        return _API_KEYS.validate_python(answer)

    async def revoke(self, key_id: str) -> builtins.list[str]:
        """Revoke an API key; the ids revoked."""
        answer = await self._client._request("DELETE", f"/api/account/apikeys/{_one(key_id)}")
        return _IDS.validate_python(answer)
