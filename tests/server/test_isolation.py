"""Another account's id behaves exactly like an id that does not exist."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job

MISSING = {
    "printer": "prn_doesnotexist00",
    "computer": "cmp_doesnotexist00",
    "job": "pj_doesnotexist000",
    "webhook": "wh_doesnotexist000",
    "key": "key_doesnotexist00",
}

CALLS: list[tuple[str, str, str]] = [
    ("GET", "/api/printers/{printer}", "printer"),
    ("GET", "/api/computers/{computer}/printers", "computer"),
    ("DELETE", "/api/computers/{computer}", "computer"),
    ("POST", "/api/printjobs", "printer"),
    ("GET", "/api/printjobs/{job}", "job"),
    ("GET", "/api/printjobs/{job}/states", "job"),
    ("GET", "/api/printjobs?after={job}", "job"),
    ("DELETE", "/api/printjobs/{job}", "job"),
    ("GET", "/api/webhooks/{webhook}", "webhook"),
    ("GET", "/api/webhooks/{webhook}/deliveries", "webhook"),
    ("POST", "/api/webhooks/{webhook}/enable", "webhook"),
    ("POST", "/api/webhooks/{webhook}/deliveries/msg_x/replay", "webhook"),
    ("DELETE", "/api/webhooks/{webhook}", "webhook"),
    ("DELETE", "/api/account/apikeys/{key}", "key"),
]


async def _call(
    client: httpx.AsyncClient, attacker: TestAccount, method: str, path: str, ids: dict[str, str]
) -> httpx.Response:
    body: dict[str, Any] | None = job(ids["printer"]) if method == "POST" else None
    return await client.request(method, path.format(**ids), auth=attacker.auth(), json=body)


@pytest.mark.parametrize(("method", "path", "kind"), CALLS)
async def test_other_accounts_ids_look_like_missing_ids(
    client: httpx.AsyncClient,
    account: TestAccount,
    other_account: TestAccount,
    object_ids: dict[str, str],
    method: str,
    path: str,
    kind: str,
) -> None:
    theirs = await _call(client, other_account, method, path, object_ids)
    missing = await _call(client, other_account, method, path, object_ids | {kind: MISSING[kind]})

    assert theirs.status_code == missing.status_code
    assert theirs.status_code in (400, 404)
    assert theirs.json()["code"] == missing.json()["code"]
    assert theirs.json()["message"] == missing.json()["message"].replace(
        MISSING[kind], object_ids[kind]
    )


async def test_other_accounts_objects_are_untouched_and_unlisted(
    client: httpx.AsyncClient,
    account: TestAccount,
    other_account: TestAccount,
    object_ids: dict[str, str],
) -> None:
    for method, path, _ in CALLS:
        await _call(client, other_account, method, path, object_ids)

    owned = {"/api/printers": 1, "/api/computers": 1, "/api/printjobs": 2, "/api/webhooks": 1}
    for path, count in owned.items():
        assert (await client.get(path, auth=other_account.auth())).json() == []
        assert len((await client.get(path, auth=account.auth())).json()) == count
    keys = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    assert next(k for k in keys if k["id"] == object_ids["key"])["revokedAt"] is None
    assert object_ids["key"] not in str(
        (await client.get("/api/account/apikeys", auth=other_account.auth())).json()
    )
