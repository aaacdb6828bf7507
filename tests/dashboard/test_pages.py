"""The dashboard over HTTP: login, sessions, CSRF, sign-up, throttling, the pages."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.dashboard.testpage import make_test_page
from printcloud.server.db.models import User, WebSession
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import csrf_of, page_token, web_login


async def test_pages_send_a_stranger_to_the_login_page(client: httpx.AsyncClient) -> None:
    for path in ("/", "/jobs", "/keys", "/webhooks", "/connect", "/jobs/pj_x"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_login_sets_an_httponly_lax_session_cookie(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await web_login(client, account.user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("printcloud_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    overview = await client.get("/")
    assert overview.status_code == 200
    assert "Office-PC" not in overview.text  # no computers yet
    assert '<html lang="en" dir="ltr">' in overview.text


async def test_the_session_cookie_is_secure_over_https(app: FastAPI, account: TestAccount) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        response = await web_login(client, account.user.email)
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("printcloud_session=")
    )
    assert "Secure" in cookie


async def test_only_the_hash_of_the_session_token_is_stored(
    client: httpx.AsyncClient, account: TestAccount, runtime: Runtime
) -> None:
    await web_login(client, account.user.email)
    token = client.cookies["printcloud_session"]
    async with runtime.sessionmaker() as session:
        ids = list(await session.scalars(select(WebSession.id)))
    assert len(ids) == 1
    assert token not in ids


async def test_a_wrong_password_is_refused(client: httpx.AsyncClient, account: TestAccount) -> None:
    response = await web_login(client, account.user.email, "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.text
    assert "printcloud_session" not in client.cookies


async def test_a_post_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, account: TestAccount, runtime: Runtime
) -> None:
    await web_login(client, account.user.email)
    response = await client.post("/keys", data={"description": "forged", "permission": "full"})
    assert response.status_code == 403
    wrong = await client.post(
        "/keys", data={"description": "forged", "permission": "full", "csrf_token": "x" * 43}
    )
    assert wrong.status_code == 403
    keys = await client.get("/api/account/apikeys", auth=account.auth())
    assert "forged" not in {k["description"] for k in keys.json()}


async def test_a_cross_origin_post_is_refused_even_with_the_token(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client)
    response = await client.post(
        "/keys",
        data={"description": "forged", "permission": "full", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    same = await client.post(
        "/keys",
        data={"description": "mine", "permission": "read_only", "csrf_token": token},
        headers={"Origin": "http://testserver"},
    )
    assert same.status_code == 200
    assert 'id="new-key"' in same.text


async def test_login_form_needs_its_csrf_cookie(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/login", data={"email": account.user.email, "password": PASSWORD, "csrf_token": "a" * 43}
    )
    assert response.status_code == 403
    assert "printcloud_session" not in client.cookies


async def test_sign_up_creates_an_account_and_logs_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    page = await client.get("/signup")
    response = await client.post(
        "/signup",
        data={
            "email": "New.Person@Example.com",
            "password": PASSWORD,
            "first_name": "Dana",
            "last_name": "Levi",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 303
    assert (await client.get("/")).status_code == 200
    async with runtime.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert user is not None
    assert user.first_name == "Dana"


async def test_sign_up_shows_why_it_failed(client: httpx.AsyncClient) -> None:
    page = await client.get("/signup")
    response = await client.post(
        "/signup",
        data={"email": "a@example.com", "password": "short", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 400
    assert "at least 8 characters" in response.text
    assert "printcloud_session" not in client.cookies


async def test_sign_up_can_be_turned_off(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory(signup_enabled=False)
    async with client_for(create_app(runtime=runtime)) as client:
        assert (await client.get("/signup")).status_code == 404
        login_page = await client.get("/login")
        assert 'href="/signup"' not in login_page.text
        response = await client.post(
            "/signup",
            data={
                "email": "nobody@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(login_page.text),
            },
        )
        assert response.status_code == 404
    async with runtime.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(User).where(User.email == "nobody@example.com")
        )
    assert count == 0


async def test_logout_ends_the_session(client: httpx.AsyncClient, account: TestAccount) -> None:
    await web_login(client, account.user.email)
    cookie = client.cookies["printcloud_session"]
    token = await page_token(client, "/")
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    client.cookies.set("printcloud_session", cookie)  # a copy kept by an attacker
    assert (await client.get("/")).status_code == 303


async def test_a_password_change_logs_out_the_other_sessions(
    app: FastAPI, account: TestAccount
) -> None:
    async with client_for(app) as phone, client_for(app) as laptop:
        await web_login(phone, account.user.email)
        await web_login(laptop, account.user.email)
        token = await page_token(laptop, "/account/password")
        wrong = await laptop.post(
            "/account/password",
            data={
                "current_password": "nope",
                "new_password": "a new long one",
                "csrf_token": token,
            },
        )
        assert wrong.status_code == 400
        changed = await laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "a new long one",
                "csrf_token": token,
            },
        )
        assert changed.status_code == 200
        assert "Your password was changed" in changed.text
        assert (await laptop.get("/")).status_code == 200
        assert (await phone.get("/")).status_code == 303
    async with client_for(app) as again:
        assert (await web_login(again, account.user.email)).status_code == 401
        assert (await web_login(again, account.user.email, "a new long one")).status_code == 303


async def test_login_failures_are_counted_with_the_api_client_login(
    runtime_factory: Callable[..., Runtime], account: TestAccount
) -> None:
    runtime = runtime_factory(login_failures_per_email="3/15m")
    async with client_for(create_app(runtime=runtime)) as client:
        for _ in range(3):
            failed = await client.post(
                "/api/client/login", json={"email": account.user.email, "password": "wrong!!!"}
            )
            assert failed.status_code == 401
        # The right password, but the e-mail's budget is spent, through either door.
        response = await web_login(client, account.user.email)
        assert response.status_code == 429
        assert "Too many failed attempts" in response.text
        assert "printcloud_session" not in client.cookies


async def test_keys_are_created_shown_once_and_revoked(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client)
    created = await client.post(
        "/keys", data={"description": "Shop", "permission": "print_only", "csrf_token": token}
    )
    assert created.status_code == 200
    key = created.text.split('id="new-key"')[1].split('value="')[1].split('"')[0]
    assert key.startswith("pk_live_")
    assert (await client.get("/api/printers", auth=(key, ""))).status_code == 200
    listing = await client.get("/keys")
    assert key not in listing.text
    assert "Shop" in listing.text
    keys = (await client.get("/api/account/apikeys", auth=account.auth())).json()
    key_id = next(k["id"] for k in keys if k["description"] == "Shop")
    revoked = await client.post(f"/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200
    assert (await client.get("/api/printers", auth=(key, ""))).status_code == 401


async def test_a_test_page_is_a_pdf_job_with_a_thumbnail(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client, "/")
    response = await client.post(f"/printers/{printer_id}/test-page", data={"csrf_token": token})
    assert response.status_code == 303
    job_path = response.headers["location"]
    job_id = job_path.rsplit("/", 1)[1]
    job = (await client.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()[0]
    assert job["contentType"] == "pdf_base64"
    assert job["state"] == "pending"
    page = await client.get(job_path)
    assert "PrintCloud test page" in page.text
    assert "Job created" in page.text  # the state history
    thumbnail = await client.get(f"{job_path}/thumbnail.png")
    assert thumbnail.status_code == 200
    assert thumbnail.content.startswith(b"\x89PNG")


async def test_the_jobs_page_filters_and_pages(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    content = base64.b64encode(make_test_page("P", "C", utcnow())).decode()
    for n in range(27):
        created = await client.post(
            "/api/printjobs",
            auth=account.auth(),
            json={
                "printerId": printer_id,
                "contentType": "pdf_base64",
                "content": content,
                "title": f"Job {n:02d}",
            },
        )
        assert created.status_code == 201
    await web_login(client, account.user.email)
    first = await client.get("/jobs")
    assert "Job 26" in first.text
    assert "Job 01" not in first.text
    older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await client.get(older.replace("&amp;", "&"))
    assert "Job 01" in second.text
    assert "Job 26" not in second.text
    done = await client.get("/jobs", params={"state": "completed"})
    assert "Job 26" not in done.text
    by_printer = await client.get("/jobs", params={"printer": printer_id})
    assert "Job 26" in by_printer.text


async def test_the_connect_page_has_the_installers_of_this_server(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    unix = "curl -fsSL http://testserver/install/agent.sh | sudo sh -s -- "
    windows = "irm http://testserver/install/agent.ps1 | iex"
    for language in ("en", "he"):
        page = await client.get("/connect", headers={"Accept-Language": language})
        assert f"{unix}--email {account.user.email}" in page.text
        assert f"{unix}--api-key KEY" in page.text
        assert windows in page.text
        assert "-ApiKey KEY" in page.text
        assert "pip install" not in page.text
    assert "Python 3.11" in page.text
    assert "תוכנית ההתקנה" in page.text


async def test_read_only_api_key_permission_is_offered(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    page = await client.get("/keys")
    for permission in Permission:
        assert f'value="{permission.value}"' in page.text


async def test_sign_ups_from_one_address_are_throttled_failed_ones_included(
    runtime_factory: Callable[..., Runtime],
) -> None:
    """Each attempt tells whether an e-mail has an account: the budget bounds how many
    e-mails one address can try, and how many accounts it can make."""
    runtime = runtime_factory(signups_per_address="2/h")
    async with client_for(create_app(runtime=runtime)) as client:

        async def sign_up(email: str) -> httpx.Response:
            page = await client.get("/signup")
            return await client.post(
                "/signup",
                data={"email": email, "password": "short", "csrf_token": csrf_of(page.text)},
            )

        assert (await sign_up("one@example.com")).status_code == 400
        assert (await sign_up("two@example.com")).status_code == 400
        throttled = await sign_up("three@example.com")
        assert throttled.status_code == 429
        assert "Too many sign-ups from your address" in throttled.text
        assert int(throttled.headers["Retry-After"]) > 0
