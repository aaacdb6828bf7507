"""Owners and members: what each may open and post, checked on the server for every
dashboard route; the last owner; a removed user; a member's API keys."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.roles import Role
from printcloud.server.dashboard.routes import ROUTERS
from printcloud.server.db.models import ApiKey, User
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount, add_user, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import csrf_of, web_login
from tests.helpers.live_server import LiveServer
from tests.helpers.ws_agent import WsAgent

# Every owner-only route of the dashboard; a member gets a 403 page from each.
OWNER_ONLY = {
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("POST", "/keys/{key_id}/revoke"),
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/test"),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"),
    ("POST", "/webhooks/{webhook_id}/enable"),
    ("POST", "/webhooks/{webhook_id}/delete"),
    ("GET", "/users"),
    ("POST", "/users/invite"),
    ("POST", "/users/invites/{invite_id}/cancel"),
    ("POST", "/users/{user_id}/role"),
    ("POST", "/users/{user_id}/remove"),
    ("POST", "/users/{user_id}/reset-link"),
    ("POST", "/printers/{printer_id}/share-token"),
    ("POST", "/printers/{printer_id}/share-token/revoke"),
}
# Every other dashboard route: open to every user (or before login).
EVERYONE = {
    ("GET", "/"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("GET", "/jobs/{job_id}/thumbnail.png"),
    ("GET", "/printers/{printer_id}"),
    ("POST", "/printers/{printer_id}/test-page"),
    ("GET", "/connect"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("GET", "/lang/{code}"),
    ("GET", "/dashboard/events"),
    ("GET", "/invite/{token}"),
    ("POST", "/invite/{token}"),
    ("GET", "/password/forgot"),
    ("POST", "/password/forgot"),
    ("GET", "/password/reset/{token}"),
    ("POST", "/password/reset/{token}"),
}


def test_every_dashboard_route_is_either_everyones_or_the_owners() -> None:
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert routes == OWNER_ONLY | EVERYONE  # a new route is put in one of the two


@contextlib.asynccontextmanager
async def _signed_in(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        response = await web_login(client, email)
        assert response.status_code == 303, response.text
        yield client


async def test_a_member_gets_403_from_every_owner_only_route(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    async with _signed_in(app, account.user.email) as owner_client:
        await _refused_to_a_member(app, runtime, account, owner_client)


async def _refused_to_a_member(
    app: FastAPI, runtime: Runtime, account: TestAccount, owner_client: httpx.AsyncClient
) -> None:
    member = await add_user(runtime, account, Role.MEMBER)
    token = csrf_of((await owner_client.get("/webhooks")).text)
    created = await owner_client.post(
        "/webhooks",
        data={"url": "https://hooks.example.com/x", "events": "all", "csrf_token": token},
    )
    assert created.status_code == 200
    async with runtime.sessionmaker() as session:
        key_id = await session.scalar(
            select(ApiKey.id).where(ApiKey.account_id == account.account_id)
        )
    webhook_id = created.text.split('href="/webhooks/wh_', 1)[1].split('"', 1)[0]
    ids = {
        "key_id": key_id,
        "webhook_id": "wh_" + webhook_id,
        "delivery_id": "msg_x",
        "user_id": account.user.id,
        "invite_id": "0" * 64,
        "printer_id": "prn_x",
    }
    async with _signed_in(app, member.email) as client:
        token = csrf_of((await client.get("/")).text)
        for method, path in sorted(OWNER_ONLY):
            url = path.format(**ids)
            form = {"csrf_token": token, "email": "x@example.com", "role": "member"}
            response = await (client.get(url) if method == "GET" else client.post(url, data=form))
            assert response.status_code == 403, (method, url)
            assert "Only an owner of the account" in response.text, (method, url)
        # In Hebrew too, as the rest of the dashboard.
        hebrew = await client.get("/keys", headers={"Accept-Language": "he"})
        assert hebrew.status_code == 403
        assert "רק הבעלים של החשבון" in hebrew.text
    # Nothing was done: the owner is still an owner, the key and the webhook still there.
    async with runtime.sessionmaker() as session:
        owner = await session.get(User, account.user.id)
        key = await session.get(ApiKey, key_id)
    assert owner is not None
    assert owner.role == Role.OWNER
    assert key is not None
    assert key.revoked_at is None
    assert (await owner_client.get(f"/webhooks/{ids['webhook_id']}")).status_code == 200


async def test_a_member_sees_no_link_to_the_owners_pages(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    member = await add_user(runtime, account, Role.MEMBER)
    async with _signed_in(app, member.email) as client:
        page = (await client.get("/")).text
        for owners in ('href="/keys"', 'href="/webhooks"', 'href="/users"'):
            assert owners not in page
        assert 'href="/jobs"' in page
    async with _signed_in(app, account.user.email) as client:
        page = (await client.get("/")).text
        assert 'href="/keys"' in page
        assert 'href="/users"' in page


async def test_an_account_keeps_its_last_owner(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    member = await add_user(runtime, account, Role.MEMBER)
    async with _signed_in(app, account.user.email) as client:
        token = csrf_of((await client.get("/users")).text)
        own = f"/users/{account.user.id}"
        demoted = await client.post(f"{own}/role", data={"csrf_token": token, "role": "member"})
        assert demoted.status_code == 409
        assert "An account keeps at least one owner" in demoted.text
        removed = await client.post(f"{own}/remove", data={"csrf_token": token})
        assert removed.status_code == 409
        # With a second owner, the first may step down.
        promoted = await client.post(
            f"/users/{member.id}/role", data={"csrf_token": token, "role": "owner"}
        )
        assert promoted.status_code == 303
        stepped_down = await client.post(
            f"{own}/role", data={"csrf_token": token, "role": "member"}
        )
        assert stepped_down.status_code == 303
        # Now a member: the users page is refused at once, in the same session.
        assert (await client.get("/users")).status_code == 403
    async with runtime.sessionmaker() as session:
        roles = {row.id: row.role for row in await session.execute(select(User.id, User.role))}
    assert roles == {account.user.id: Role.MEMBER, member.id: Role.OWNER}


async def test_a_removed_users_sessions_and_login_keys_end_at_once(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    member = await add_user(runtime, account, Role.MEMBER)
    async with client_for(app) as api:
        login = await api.post(
            "/api/client/login", json={"email": member.email, "password": PASSWORD}
        )
        member_key = login.json()["apiKey"]
        assert (await api.get("/api/printers", auth=(member_key, ""))).status_code == 200
        async with _signed_in(app, member.email) as member_client:
            assert (await member_client.get("/")).status_code == 200
            async with _signed_in(app, account.user.email) as owner:
                token = csrf_of((await owner.get("/users")).text)
                removed = await owner.post(f"/users/{member.id}/remove", data={"csrf_token": token})
                assert removed.status_code == 303
                assert member.email not in (await owner.get("/users")).text
            after = await member_client.get("/")
            assert after.status_code == 303
            assert after.headers["location"].startswith("/login")
        assert (await api.get("/api/printers", auth=(member_key, ""))).status_code == 401
        relogin = await api.post(
            "/api/client/login", json={"email": member.email, "password": PASSWORD}
        )
        assert relogin.status_code == 401


async def test_a_members_login_key_prints_and_manages_nothing(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    member = await add_user(runtime, account, Role.MEMBER)
    await account.add_computer(runtime)
    async with client_for(app) as api:
        login = await api.post(
            "/api/client/login", json={"email": member.email, "password": PASSWORD}
        )
        assert login.status_code == 200
        assert login.json()["user"]["email"] == member.email
        key = (login.json()["apiKey"], "")
        listed = (await api.get("/api/account/apikeys", auth=account.auth())).json()
        mine = [k for k in listed if login.json()["apiKey"].startswith(k["prefix"])]
        assert [k["permission"] for k in mine] == [Permission.PRINT_ONLY]
        printers = await api.get("/api/printers", auth=key)
        assert printers.status_code == 200
        job = await api.post(
            "/api/printjobs",
            auth=key,
            json={
                "printerId": printers.json()[0]["id"],
                "contentType": "raw_base64",
                "content": "SGVsbG8=",
            },
        )
        assert job.status_code == 201
        for method, path, body in (
            ("POST", "/api/account/apikeys", {"permission": "full"}),
            ("POST", "/api/webhooks", {"url": "https://hooks.example.com/x", "events": ["all"]}),
            ("DELETE", f"/api/account/apikeys/{mine[0]['id']}", None),
        ):
            refused = await api.request(method, path, auth=key, json=body)
            assert refused.status_code == 403, path
            assert refused.json()["code"] == "Forbidden"
        owner_login = await api.post(
            "/api/client/login", json={"email": account.user.email, "password": PASSWORD}
        )
        owner_key = (owner_login.json()["apiKey"], "")
        assert (
            await api.post("/api/account/apikeys", auth=owner_key, json={"permission": "full"})
        ).status_code == 201


async def test_a_demoted_owners_login_keys_become_print_only(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    second = await add_user(runtime, account, Role.OWNER)
    async with client_for(app) as api:
        login = await api.post(
            "/api/client/login", json={"email": second.email, "password": PASSWORD}
        )
        key = (login.json()["apiKey"], "")
        assert (await api.get("/api/webhooks", auth=key)).status_code == 200
        made = await api.post("/api/account/apikeys", auth=key, json={"permission": "read_only"})
        assert made.status_code == 201  # full while an owner
        async with _signed_in(app, account.user.email) as owner:
            token = csrf_of((await owner.get("/users")).text)
            demoted = await owner.post(
                f"/users/{second.id}/role", data={"csrf_token": token, "role": "member"}
            )
            assert demoted.status_code == 303
        refused = await api.post("/api/account/apikeys", auth=key, json={"permission": "full"})
        assert refused.status_code == 403
        assert (await api.get("/api/printers", auth=key)).status_code == 200


async def test_only_an_owners_login_key_connects_a_computer(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    member = await add_user(dash.runtime, account, Role.MEMBER)
    async with httpx.AsyncClient(base_url=dash.url) as api:
        keys = {}
        for who, email in (("member", member.email), ("owner", account.user.email)):
            login = await api.post("/api/client/login", json={"email": email, "password": PASSWORD})
            keys[who] = login.json()["apiKey"]
    refused = WsAgent(dash.ws_url, keys["member"])
    answer = await refused.connect()
    assert answer["type"] == "auth_error"
    assert "print_only" in answer["message"]
    await refused.close()
    agent = WsAgent(dash.ws_url, keys["owner"])
    assert (await agent.connect(printers=["Front Printer"]))["type"] == "auth_ok"
    await agent.close()
