from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from printcloud.server.accounts import keys
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount
from tests.helpers.asgi_client import client_for


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/client/login", json={"email": email, "password": password})


async def test_client_login_issues_a_full_key(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await login(client, account.user.email, PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert keys.is_well_formed(body["apiKey"])
    assert body["user"] == {
        "id": account.user.id,
        "firstName": "John",
        "lastName": "Doe",
        "email": account.user.email,
    }
    printers = await client.get("/api/printers", auth=(body["apiKey"], ""))
    assert printers.status_code == 200
    listed = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    client_key = next(k for k in listed if body["apiKey"].startswith(k["prefix"]))
    assert client_key["permission"] == "full"
    assert client_key["description"].startswith("Client login")


async def test_login_email_is_case_insensitive(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await login(client, account.user.email.upper(), PASSWORD)
    assert response.status_code == 200


async def test_wrong_email_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    wrong_password = await login(client, account.user.email, "not the password")
    wrong_email = await login(client, "nobody@example.com", PASSWORD)

    assert wrong_password.status_code == wrong_email.status_code == 401
    assert (
        wrong_password.json()
        == wrong_email.json()
        == {"code": "Unauthorized", "message": "Invalid e-mail or password"}
    )


async def test_repeated_login_failures_for_one_email_are_throttled(
    runtime_factory: Any, account: TestAccount
) -> None:
    app = create_app(runtime=runtime_factory(login_failures_per_email="3/15m"))
    async with client_for(app) as client:
        statuses = [
            (await login(client, account.user.email, "wrong guess")).status_code for _ in range(4)
        ]
        right = await login(client, account.user.email, PASSWORD)
        other = await login(client, "someone-else@example.com", "wrong guess")

    assert statuses == [401, 401, 401, 429]
    assert right.status_code == 429  # the right password does not lift the throttle
    assert right.json()["code"] == "TooManyRequests"
    assert int(right.headers["Retry-After"]) > 0
    assert other.status_code == 401  # another e-mail has its own budget


async def test_repeated_login_failures_from_one_address_are_throttled(runtime_factory: Any) -> None:
    app = create_app(runtime=runtime_factory(login_failures_per_address="3/15m"))
    async with client_for(app) as client:
        statuses = [
            (await login(client, f"user{i}@example.com", "wrong guess")).status_code
            for i in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize(
    "body", [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "", "password": "x"}]
)
async def test_login_requires_email_and_password(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post("/api/client/login", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def _basic(value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}


async def test_basic_auth_as_every_example_of_the_original_sends_it(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    key = account.keys[Permission.FULL]
    encoded = base64.b64encode(f"{key}:".encode()).decode()
    # curl -u "key:", PHP's CURLOPT_USERPWD 'key:', requests' auth=(key, ''), and the
    # explicit header of the fetch and C# examples all send base64("key:").
    for kwargs in [
        {"auth": (key, "")},
        {"headers": {"Authorization": f"Basic {encoded}"}},
        {"headers": {"authorization": f"basic  {encoded} "}},
    ]:
        response = await client.get("/api/printers", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text


async def test_missing_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/printers")
    assert response.status_code == 401
    assert response.json() == {"code": "Unauthorized", "message": "Authentication required"}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic %%%notbase64"},
        _basic("pk_live_wrong:"),
        _basic(":"),
    ],
)
async def test_malformed_credentials_are_unauthorized(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/api/printers", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"


async def test_key_with_a_bad_checksum_is_refused(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    key = account.keys[Permission.FULL]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert not keys.is_well_formed(tampered)
    response = await client.get("/api/printers", auth=(tampered, ""))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key"


async def test_well_formed_unknown_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/printers", auth=(keys.generate(), ""))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key"


async def test_create_list_and_revoke_api_keys(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    created = await client.post(
        "/api/account/apikeys",
        auth=account.auth(),
        json={"description": "Production", "permission": "print_only"},
    )

    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("key_")
    assert body["key"].startswith("pk_live_")
    assert body["description"] == "Production"
    assert body["permission"] == "print_only"
    new_key = body["key"]
    assert (await client.get("/api/printers", auth=(new_key, ""))).status_code == 200

    listed = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    mine = next(k for k in listed if k["id"] == body["id"])
    assert mine["description"] == "Production"
    assert mine["revokedAt"] is None
    assert new_key.startswith(mine["prefix"])
    assert all("key" not in k for k in listed)
    assert new_key not in created.request.content.decode() + str(listed)

    revoked = await client.delete(f"/api/account/apikeys/{body['id']}", auth=account.auth())
    assert revoked.status_code == 200
    assert revoked.json() == [body["id"]]
    refused = await client.get("/api/printers", auth=(new_key, ""))
    assert refused.status_code == 401
    assert refused.json()["message"] == "This API key has been revoked"
    listed = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    assert next(k for k in listed if k["id"] == body["id"])["revokedAt"] is not None


async def test_api_key_permission_defaults_to_full_and_is_validated(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    created = await client.post("/api/account/apikeys", auth=account.auth(), json={})
    assert created.status_code == 201
    assert created.json()["permission"] == "full"
    bad = await client.post(
        "/api/account/apikeys", auth=account.auth(), json={"permission": "admin"}
    )
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("permission:")


async def test_revoking_an_unknown_key_is_not_found(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.delete("/api/account/apikeys/key_missing", auth=account.auth())
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


async def test_only_the_hash_of_a_key_is_stored(runtime: Runtime, account: TestAccount) -> None:
    key = account.keys[Permission.FULL]
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM api_keys"))).all()
    assert rows
    assert all(key not in str(tuple(row)) for row in rows)
