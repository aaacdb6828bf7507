"""The dashboard's forms and paths refuse U+0000 with a 400 page naming the field, on
both backends (PostgreSQL cannot store it: these were 500s there)."""

from __future__ import annotations

import html

import httpx
import pytest

from tests.helpers.accounts import PASSWORD, TestAccount
from tests.helpers.dashboard import csrf_of, page_token, web_login

NUL = "\u0000"


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert f"{field}: must not contain the NUL character (U+0000)" in html.unescape(response.text)


async def test_login_with_nul_in_the_email_is_a_400_page(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    page = await client.get("/login")

    response = await client.post(
        "/login",
        data={
            "email": f"{account.user.email}{NUL}",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )

    assert_refused(response, "email")


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
async def test_signup_with_nul_in_a_field_is_a_400_page(
    client: httpx.AsyncClient, field: str
) -> None:
    page = await client.get("/signup")
    form = {
        "email": "nul@example.com",
        "password": "a long enough password",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "csrf_token": csrf_of(page.text),
    }
    form[field] += NUL

    response = await client.post("/signup", data=form)

    assert_refused(response, field)


async def test_a_key_description_with_nul_is_a_400_page(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client, "/keys")

    response = await client.post(
        "/keys", data={"description": f"Prod{NUL}", "permission": "full", "csrf_token": token}
    )

    assert_refused(response, "description")
    keys = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    assert all(NUL not in key["description"] for key in keys)


async def test_a_webhook_url_with_nul_is_a_400_page(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client, "/webhooks")

    response = await client.post(
        "/webhooks",
        data={"url": f"https://example.com/{NUL}", "events": "all", "csrf_token": token},
    )

    assert_refused(response, "url")


async def test_a_job_page_for_an_id_with_nul_is_a_400_page(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)

    response = await client.get("/jobs/pj_%00")

    assert_refused(response, "job_id")
