"""The API's resources (``client.jobs``, ``client.printers``...): each endpoint once.

An endpoint returns its ``Call``; ``Client`` and ``AsyncClient`` send it (see
``_flow.py``), so ``client.jobs.get(job_id)`` is a ``Job`` and
``await async_client.jobs.get(job_id)`` is the same ``Job``.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from pydantic import TypeAdapter

from printcloud.client._exceptions import NotFoundError
from printcloud.client._flow import Call, M, Resource, endpoint
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


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that were given: the server applies its own defaults to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


class Printers(Resource[M]):
    @endpoint
    def list(self) -> Call[builtins.list[Printer]]:
        """Every printer of the account."""
        return Call("GET", "/api/printers", _PRINTERS.validate_python)

    @endpoint
    def get(self, ids: str | Sequence[str]) -> Call[builtins.list[Printer]]:
        """The printers with these ids (NotFoundError when none exists)."""
        return Call("GET", f"/api/printers/{_ids(ids)}", _PRINTERS.validate_python)


class Computers(Resource[M]):
    @endpoint
    def list(self) -> Call[builtins.list[Computer]]:
        """Every computer of the account, with its printers."""
        return Call("GET", "/api/computers", _COMPUTERS.validate_python)

    @endpoint
    def delete(self, ids: str | Sequence[str]) -> Call[builtins.list[str]]:
        """Delete computers (and their printers); the ids deleted."""
        return Call("DELETE", f"/api/computers/{_ids(ids)}", _IDS.validate_python)


class Jobs(Resource[M]):
    @endpoint
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
    ) -> Call[str]:
        """Create a print job; its id. Safe to retry: it always sends an Idempotency-Key."""
        body = {"printerId": printer_id, "contentType": content_type, "content": content}
        body |= _present(title=title, qty=qty, options=dict(options) if options else None)
        body |= _present(expireAfter=expire_after)
        # The same key on every retry: the server answers a repeat with the first job.
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return Call("POST", "/api/printjobs", _ID.validate_python, json=body, headers=headers)

    @endpoint
    def list(
        self, limit: int = 100, dir: Direction = "desc", after: str | None = None
    ) -> Call[builtins.list[Job]]:
        """The job history, newest first by default; ``after`` pages on from a job id."""
        params = _present(limit=limit, dir=dir, after=after)
        return Call("GET", "/api/printjobs", _JOBS.validate_python, params=params)

    @endpoint
    def get(self, job_id: str) -> Call[Job]:
        """One job."""

        def first(answer: Any) -> Job:
            jobs = _JOBS.validate_python(answer)
            if not jobs:
                raise NotFoundError(f"print job {job_id} not found", "NotFound", 404)
            return jobs[0]

        return Call("GET", f"/api/printjobs/{_one(job_id)}", first)

    @endpoint
    def states(self, job_id: str) -> Call[builtins.list[JobState]]:
        """A job's states, oldest first."""
        return Call("GET", f"/api/printjobs/{_one(job_id)}/states", _STATES.validate_python)

    @endpoint
    def delete(self, ids: str | Sequence[str]) -> Call[builtins.list[str]]:
        """Delete jobs from the history; the ids deleted."""
        return Call("DELETE", f"/api/printjobs/{_ids(ids)}", _IDS.validate_python)


class Webhooks(Resource[M]):
    @endpoint
    def create(
        self, *, url: str, events: Sequence[str], secret: str | None = None
    ) -> Call[WebhookCreated]:
        """Subscribe ``url`` to ``events``; the secret is generated when omitted."""
        body = _present(url=url, events=list(events), secret=secret)
        return Call("POST", "/api/webhooks", WebhookCreated.model_validate, json=body)

    @endpoint
    def list(self) -> Call[builtins.list[Webhook]]:
        """Every webhook of the account."""
        return Call("GET", "/api/webhooks", _WEBHOOKS.validate_python)

    @endpoint
    def delete(self, webhook_id: str) -> Call[builtins.list[str]]:
        """Delete a webhook; the ids deleted."""
        return Call("DELETE", f"/api/webhooks/{_one(webhook_id)}", _IDS.validate_python)

    @endpoint
    def get(self, webhook_id: str) -> Call[Webhook]:
        """One webhook, with why it was disabled if it was."""
        return Call("GET", f"/api/webhooks/{_one(webhook_id)}", Webhook.model_validate)

    @endpoint
    def deliveries(self, webhook_id: str, limit: int = 50) -> Call[builtins.list[Delivery]]:
        """The webhook's recent deliveries, newest first, each with its attempts."""
        path = f"/api/webhooks/{_one(webhook_id)}/deliveries"
        return Call("GET", path, _DELIVERIES.validate_python, params={"limit": limit})

    @endpoint
    def replay(self, webhook_id: str, delivery_id: str) -> Call[str]:
        """Send a delivery's event again; the new delivery's id."""
        path = f"/api/webhooks/{_one(webhook_id)}/deliveries/{_one(delivery_id)}/replay"
        return Call("POST", path, lambda answer: _IDS.validate_python(answer)[0])

    @endpoint
    def enable(self, webhook_id: str) -> Call[Webhook]:
        """Turn a disabled webhook back on."""
        return Call("POST", f"/api/webhooks/{_one(webhook_id)}/enable", Webhook.model_validate)


class ApiKeys(Resource[M]):
    @endpoint
    def create(self, description: str = "", permission: Permission = "full") -> Call[ApiKeyCreated]:
        """A new API key; the key itself is in the answer, this once."""
        body = {"description": description, "permission": permission}
        return Call("POST", "/api/account/apikeys", ApiKeyCreated.model_validate, json=body)

    @endpoint
    def list(self) -> Call[builtins.list[ApiKey]]:
        """Every API key of the account, with a prefix, never the key."""
        return Call("GET", "/api/account/apikeys", _API_KEYS.validate_python)

    @endpoint
    def revoke(self, key_id: str) -> Call[builtins.list[str]]:
        """Revoke an API key; the ids revoked."""
        return Call("DELETE", f"/api/account/apikeys/{_one(key_id)}", _IDS.validate_python)
