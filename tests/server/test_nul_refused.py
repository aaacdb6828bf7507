"""U+0000 is refused at validation with a 400 naming the field, on both backends.

PostgreSQL cannot store it in text (SQLite can): before one rule at the edges, the
same request answered 201 on SQLite and 500 on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job

NUL = "\u0000"


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "BadRequest"
    assert body["message"].startswith(f"{field}:"), body
    assert "U+0000" in body["message"], body


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": f"Invoice{NUL}#456"}, "title"),
        ({"options": {"media": f"Tray{NUL}1"}}, "options.media"),
        ({"options": {"paper": f"A4{NUL}"}}, "options.paper"),
    ],
)
async def test_a_job_with_nul_in_a_field_is_refused_naming_it(
    client: httpx.AsyncClient,
    account: TestAccount,
    printer_id: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        "/api/printjobs", auth=account.auth(), json=job(printer_id, **fields)
    )

    assert_refused(response, field)


async def test_a_job_for_a_printer_id_with_nul_is_refused(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    response = await client.post(
        "/api/printjobs", auth=account.auth(), json=job(f"{printer_id}{NUL}")
    )

    assert_refused(response, "printerId")


async def test_a_key_description_with_nul_is_refused(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/account/apikeys", auth=account.auth(), json={"description": f"Prod{NUL}"}
    )

    assert_refused(response, "description")


async def test_a_webhook_with_nul_in_its_secret_or_url_is_refused(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    hook = {"url": "https://example.com/hook", "events": ["all"]}

    secret = await client.post(
        "/api/webhooks", auth=account.auth(), json={**hook, "secret": f"s{NUL}"}
    )
    url = await client.post(
        "/api/webhooks", auth=account.auth(), json={**hook, "url": f"https://example.com/{NUL}"}
    )

    # The rule of every field comes before the secret's own (printable ASCII, since it
    # travels in a header), which refused NUL already: the same 400, naming the field.
    assert_refused(secret, "secret")
    assert_refused(url, "url")


async def test_login_with_nul_in_the_email_is_refused_unauthenticated(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/client/login", json={"email": f"{account.user.email}{NUL}", "password": "x"}
    )

    assert_refused(response, "email")


@pytest.mark.parametrize(
    ("method", "path", "param"),
    [
        ("GET", "/api/printjobs/pj_%00", "ids"),
        ("DELETE", "/api/printjobs/pj_a,pj_%00", "ids"),
        ("GET", "/api/printjobs/pj_%00/states", "job_id"),
        ("GET", "/api/printers/prn_%00", "ids"),
        ("GET", "/api/computers/cmp_%00/printers", "computer_id"),
        ("DELETE", "/api/computers/cmp_%00", "ids"),
        ("GET", "/api/webhooks/wh_%00", "webhook_id"),
        ("GET", "/api/webhooks/wh_%00/deliveries", "webhook_id"),
        ("DELETE", "/api/account/apikeys/key_%00", "key_id"),
        ("GET", "/api/printjobs?after=pj_%00", "after"),
        ("GET", "/api/printjobs?limit=1%00", "limit"),
    ],
)
async def test_nul_in_a_path_or_query_parameter_is_refused_naming_it(
    client: httpx.AsyncClient, account: TestAccount, method: str, path: str, param: str
) -> None:
    response = await client.request(method, path, auth=account.auth())

    assert_refused(response, param)
