"""Keys named after what made them ([ext] keyDescription at login), and their last use
written at most once per LAST_USED_PRECISION, never once per request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from printcloud.server.accounts.service import LAST_USED_PRECISION
from printcloud.server.db.models import ApiKey
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount


async def _keys(client: httpx.AsyncClient, account: TestAccount) -> list[dict[str, Any]]:
    response = await client.get("/api/account/apikeys", auth=account.auth())
    assert response.status_code == 200
    listed: list[dict[str, Any]] = response.json()
    return listed


async def _key_of(client: httpx.AsyncClient, account: TestAccount, api_key: str) -> dict[str, Any]:
    return next(k for k in await _keys(client, account) if api_key.startswith(k["prefix"]))


async def test_a_login_with_a_key_description_names_its_key_and_answers_as_the_original(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/client/login",
        json={"email": account.user.email, "password": PASSWORD, "keyDescription": "Agent on vm"},
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "apiKey", "user"}
    assert set(body["user"]) == {"id", "firstName", "lastName", "email"}
    assert (await _key_of(client, account, body["apiKey"]))["description"] == "Agent on vm"


async def test_a_login_without_a_key_description_keeps_the_originals_name(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    for extra in ({}, {"keyDescription": "  "}, {"keyDescription": None}):
        response = await client.post(
            "/api/client/login", json={"email": account.user.email, "password": PASSWORD, **extra}
        )
        assert response.status_code == 200
        key = await _key_of(client, account, response.json()["apiKey"])
        assert key["description"].startswith("Client login "), extra


async def test_a_key_description_longer_than_a_keys_is_refused(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/client/login",
        json={"email": account.user.email, "password": PASSWORD, "keyDescription": "x" * 201},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"
    assert "keyDescription" in response.json()["message"]


async def test_a_key_never_used_has_no_last_use_and_a_used_one_has(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    created = await client.post(
        "/api/account/apikeys", auth=account.auth(), json={"description": "Unused"}
    )
    new_key = created.json()["key"]
    assert (await _key_of(client, account, new_key))["lastUsedAt"] is None

    before = utcnow().replace(microsecond=0)
    assert (await client.get("/api/printers", auth=(new_key, ""))).status_code == 200

    last_used = (await _key_of(client, account, new_key))["lastUsedAt"]
    assert last_used is not None
    assert datetime.fromisoformat(last_used) >= before


async def _set_last_used(runtime: Runtime, api_key_prefix: str, at: datetime) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.prefix == api_key_prefix).values(last_used_at=at)
        )
        await session.commit()


async def _use_unremembered(client: httpx.AsyncClient, runtime: Runtime, api_key: str) -> None:
    """A request whose key is read from the database, as after the key cache's 10 s."""
    runtime.principals.clear()
    assert (await client.get("/api/printers", auth=(api_key, ""))).status_code == 200


async def test_last_use_is_written_only_when_the_one_read_is_older_than_the_precision(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    created = await client.post("/api/account/apikeys", auth=account.auth(), json={})
    new_key = created.json()["key"]
    prefix = (await _key_of(client, account, new_key))["prefix"]

    recent = utcnow().replace(microsecond=0) - LAST_USED_PRECISION + timedelta(seconds=30)
    await _set_last_used(runtime, prefix, recent)
    await _use_unremembered(client, runtime, new_key)
    # Read within the precision: not written again.
    assert datetime.fromisoformat((await _key_of(client, account, new_key))["lastUsedAt"]) == (
        recent
    )

    stale = utcnow().replace(microsecond=0) - LAST_USED_PRECISION - timedelta(seconds=30)
    await _set_last_used(runtime, prefix, stale)
    before = utcnow().replace(microsecond=0)
    await _use_unremembered(client, runtime, new_key)
    assert datetime.fromisoformat((await _key_of(client, account, new_key))["lastUsedAt"]) >= (
        before
    )
