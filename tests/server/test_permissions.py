"""Every endpoint by every permission: full does all, print_only reads and prints,
read_only only reads."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job

READ, PRINT, MANAGE = "read", "print", "manage"

# (method, path, what it needs). Paths use {printer}, {computer}, {job}, {webhook},
# {delivery}, {key}.
MATRIX: list[tuple[str, str, str]] = [
    ("GET", "/api/printers", READ),
    ("GET", "/api/printers/{printer}", READ),
    ("GET", "/api/computers", READ),
    ("GET", "/api/computers/{computer}/printers", READ),
    ("DELETE", "/api/computers/{computer}", MANAGE),
    ("POST", "/api/printjobs", PRINT),
    ("GET", "/api/printjobs", READ),
    ("GET", "/api/printjobs/{job}", READ),
    ("GET", "/api/printjobs/{job}/states", READ),
    ("DELETE", "/api/printjobs/{job}", MANAGE),
    ("POST", "/api/webhooks", MANAGE),
    ("GET", "/api/webhooks", READ),
    ("GET", "/api/webhooks/{webhook}", READ),
    ("GET", "/api/webhooks/{webhook}/deliveries", READ),
    ("POST", "/api/webhooks/{webhook}/enable", MANAGE),
    ("POST", "/api/webhooks/{webhook}/deliveries/{delivery}/replay", MANAGE),
    ("DELETE", "/api/webhooks/{webhook}", MANAGE),
    ("POST", "/api/account/apikeys", MANAGE),
    ("GET", "/api/account/apikeys", READ),
    ("DELETE", "/api/account/apikeys/{key}", MANAGE),
]
ALLOWED = {
    Permission.FULL: {READ, PRINT, MANAGE},
    Permission.PRINT_ONLY: {READ, PRINT},
    Permission.READ_ONLY: {READ},
}
PUBLIC = {("POST", "/api/client/login")}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_matrix_covers_every_api_route(app: FastAPI) -> None:
    routes = {
        (method.upper(), _shape(path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    covered = {(method, _shape(path)) for method, path, _ in MATRIX} | PUBLIC
    assert routes == covered


def _body(method: str, path: str, printer_id: str) -> dict[str, Any] | None:
    if (method, path) == ("POST", "/api/printjobs"):
        return job(printer_id)
    if (method, path) == ("POST", "/api/webhooks"):
        return {"url": "https://example.com/hook", "events": ["all"]}
    if (method, path) == ("POST", "/api/account/apikeys"):
        return {"description": "x", "permission": "read_only"}
    return None


@pytest.mark.parametrize("permission", list(Permission))
async def test_permission_matrix(
    client: httpx.AsyncClient,
    account: TestAccount,
    object_ids: dict[str, str],
    permission: Permission,
) -> None:
    ids = object_ids
    printer_id = ids["printer"]

    # Deleting comes last, so that every other call still finds its objects.
    for method, path, needs in sorted(MATRIX, key=lambda row: row[0] == "DELETE"):
        response = await client.request(
            method,
            path.format(**ids),
            auth=account.auth(permission),
            json=_body(method, path, printer_id),
        )
        if needs in ALLOWED[permission]:
            assert response.status_code in (200, 201), (method, path, response.text)
        else:
            assert response.status_code == 403, (method, path, response.text)
            assert response.json() == {
                "code": "Forbidden",
                "message": f"This API key's permission ({permission.value}) does not allow this",
            }

    if permission is not Permission.FULL:
        # A refused call changed nothing.
        still = await client.get(f"/api/printjobs/{ids['job']}", auth=account.auth())
        assert still.status_code == 200
        keys = (await client.get("/api/account/apikeys", auth=account.auth())).json()
        assert next(k for k in keys if k["id"] == ids["key"])["revokedAt"] is None
