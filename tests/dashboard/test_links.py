"""Invitation and password-reset links over HTTP, with a real SMTP server (aiosmtpd) on
127.0.0.1 and without one: single use, expiry, the forgot form's one answer, mail
failures told to the owner without the SMTP password in any log line."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from structlog.testing import capture_logs

from printcloud.server.accounts.roles import Role
from printcloud.server.app import create_app
from printcloud.server.db.models import User, UserToken
from printcloud.server.db.types import utcnow
from printcloud.server.retention import prune
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount, add_user, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import csrf_of, web_login
from tests.helpers.smtp import Inbox, link_in, smtp_server

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture
def mail_runtime(runtime_factory: Callable[..., Runtime], inbox: Inbox) -> Runtime:
    return runtime_factory(smtp_url=inbox.url(), smtp_from="PrintCloud <print@example.com>")


@pytest.fixture
def mail_app(mail_runtime: Runtime) -> FastAPI:
    return create_app(runtime=mail_runtime)


@contextlib.asynccontextmanager
async def _signed_in(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        assert (await web_login(client, email)).status_code == 303
        yield client


async def _forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/password/forgot")
    return await client.post(
        "/password/forgot", data={"email": email, "csrf_token": csrf_of(page.text)}
    )


async def test_the_forgot_form_answers_the_same_for_known_and_unknown_addresses(
    mail_app: FastAPI, mail_runtime: Runtime, inbox: Inbox
) -> None:
    account = await make_account(mail_runtime)
    async with client_for(mail_app) as client:
        known = await _forgot(client, account.user.email)
        unknown = await _forgot(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "a link is on its way" in known.text
    message = await inbox.next()  # the known address's, and only that one
    assert message["To"] == account.user.email
    assert message["From"] == "PrintCloud <print@example.com>"
    assert "/password/reset/" in link_in(message)
    assert inbox.empty()


async def test_a_reset_link_works_once_and_ends_the_users_other_sessions(
    mail_app: FastAPI, mail_runtime: Runtime, inbox: Inbox
) -> None:
    account = await make_account(mail_runtime)
    async with _signed_in(mail_app, account.user.email) as elsewhere:
        async with client_for(mail_app) as client:
            await _forgot(client, account.user.email)
            path = httpx.URL(link_in(await inbox.next())).path
            async with mail_runtime.sessionmaker() as session:
                stored = list(await session.scalars(select(UserToken.id)))
            assert path.rsplit("/", 1)[1] not in stored  # only its SHA-256 is kept
            form = await client.get(path)
            assert form.status_code == 200
            weak = await client.post(
                path, data={"new_password": "short", "csrf_token": csrf_of(form.text)}
            )
            assert weak.status_code == 400  # and the link still works after it
            done = await client.post(
                path, data={"new_password": NEW_PASSWORD, "csrf_token": csrf_of(form.text)}
            )
            assert done.status_code == 303
            assert (await client.get("/")).status_code == 200  # signed in with it
            again = await client.post(
                path, data={"new_password": "another one again", "csrf_token": csrf_of(form.text)}
            )
            assert again.status_code == 410
            assert "This link cannot be used" in again.text
            assert (await client.get(path)).status_code == 410
        assert (await elsewhere.get("/")).status_code == 303  # logged out by the reset
    async with client_for(mail_app) as client:
        assert (await web_login(client, account.user.email)).status_code == 401
        assert (await web_login(client, account.user.email, NEW_PASSWORD)).status_code == 303


async def test_an_expired_reset_link_is_refused(
    mail_app: FastAPI, mail_runtime: Runtime, inbox: Inbox
) -> None:
    account = await make_account(mail_runtime)
    async with client_for(mail_app) as client:
        await _forgot(client, account.user.email)
        path = httpx.URL(link_in(await inbox.next())).path
        async with mail_runtime.sessionmaker() as session:
            await session.execute(
                update(UserToken).values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        assert (await client.get(path)).status_code == 410


def _rate_limited(limit: str) -> float:
    """The refusals /metrics reports for the throttle ``limit``."""
    return REGISTRY.get_sample_value("printcloud_rate_limited_total", {"limit": limit}) or 0.0


async def test_forgot_password_is_throttled_per_address(
    runtime_factory: Callable[..., Runtime], inbox: Inbox
) -> None:
    runtime = runtime_factory(smtp_url=inbox.url(), reset_requests_per_email="2/h")
    refused_before = _rate_limited("password_reset")
    async with client_for(create_app(runtime=runtime)) as client:
        answers = [(await _forgot(client, "same@example.com")).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert _rate_limited("password_reset") - refused_before == 1


async def test_without_smtp_the_owner_hands_on_links(
    client: httpx.AsyncClient, app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    forgot = await client.get("/password/forgot")
    assert "Ask an owner of your account" in forgot.text
    assert 'name="email"' not in forgot.text
    member = await add_user(runtime, account, Role.MEMBER)
    async with _signed_in(app, account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        made = await owner.post(f"/users/{member.id}/reset-link", data={"csrf_token": token})
        assert made.status_code == 200
        assert "The password reset link" in made.text
        link = made.text.split('id="shown-link"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        invited = await owner.post(
            "/users/invite",
            data={"csrf_token": token, "email": "new-colleague@example.com", "role": "member"},
        )
        assert "The invitation link" in invited.text
        assert "new-colleague@example.com" in (await owner.get("/users")).text  # pending
    async with client_for(app) as browser:
        path = httpx.URL(link).path
        form = await browser.get(path)
        done = await browser.post(
            path, data={"new_password": NEW_PASSWORD, "csrf_token": csrf_of(form.text)}
        )
        assert done.status_code == 303
    async with client_for(app) as browser:
        assert (await web_login(browser, member.email, NEW_PASSWORD)).status_code == 303


async def test_an_invitation_joins_once_with_the_chosen_role(
    mail_app: FastAPI, mail_runtime: Runtime, inbox: Inbox
) -> None:
    account = await make_account(mail_runtime)
    async with _signed_in(mail_app, account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        sent = await owner.post(
            "/users/invite",
            data={"csrf_token": token, "email": "Second.Owner@Example.com", "role": "owner"},
        )
        assert sent.status_code == 200
        assert "An e-mail with the link was sent to second.owner@example.com" in sent.text
        assert "/invite/" not in sent.text  # mailed, not shown
        taken = await owner.post(
            "/users/invite",
            data={"csrf_token": token, "email": account.user.email, "role": "member"},
        )
        assert taken.status_code == 400
    message = await inbox.next()
    assert message["To"] == "second.owner@example.com"
    assert account.user.email in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    path = httpx.URL(link_in(message)).path
    async with client_for(mail_app) as client:
        form = await client.get(path)
        assert "second.owner@example.com" in form.text
        joined = await client.post(
            path,
            data={
                "first_name": "Noa",
                "last_name": "Levi",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
        )
        assert joined.status_code == 303
        assert (await client.get("/users")).status_code == 200  # an owner, as invited
        again = await client.post(
            path, data={"password": PASSWORD, "csrf_token": csrf_of(form.text)}
        )
        assert again.status_code == 410
    async with mail_runtime.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == "second.owner@example.com"))
    assert user is not None
    assert (user.account_id, user.role, user.first_name) == (account.account_id, "owner", "Noa")


async def test_a_failed_send_is_shown_to_the_owner_and_logs_no_password(
    runtime_factory: Callable[..., Runtime], inbox: Inbox
) -> None:
    wrong = "wrong-password-7c1e"
    runtime = runtime_factory(smtp_url=inbox.url(password=wrong))
    account = await make_account(runtime)
    app = create_app(runtime=runtime)
    async with _signed_in(app, account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        with capture_logs() as logs:
            failed = await owner.post(
                "/users/invite",
                data={"csrf_token": token, "email": "x@example.com", "role": "member"},
            )
    assert failed.status_code == 502
    assert "The e-mail could not be sent" in failed.text
    assert "refused the user name or password" in failed.text
    assert 'id="shown-link"' in failed.text  # to pass on another way
    failures = [entry for entry in logs if entry["event"] == "mail_failed"]
    assert len(failures) == 1
    assert failures[0]["smtp_host"] == inbox.host
    assert all(wrong not in repr(entry) for entry in logs)
    assert wrong not in repr(runtime.settings)
    assert inbox.empty()


async def test_a_removed_user_cannot_use_a_reset_link(
    mail_app: FastAPI, mail_runtime: Runtime, inbox: Inbox
) -> None:
    account = await make_account(mail_runtime)
    member = await add_user(mail_runtime, account, Role.MEMBER)
    async with client_for(mail_app) as client:
        await _forgot(client, member.email)
        path = httpx.URL(link_in(await inbox.next())).path
        async with _signed_in(mail_app, account.user.email) as owner:
            token = csrf_of((await owner.get("/users")).text)
            await owner.post(f"/users/{member.id}/remove", data={"csrf_token": token})
        assert (await client.get(path)).status_code == 410
    async with mail_runtime.sessionmaker() as session:
        links = await session.scalars(select(UserToken.id).where(UserToken.user_id == member.id))
        assert list(links) == []


async def test_expired_links_are_pruned(
    app: FastAPI, runtime: Runtime, account: TestAccount
) -> None:
    async with _signed_in(app, account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        for email in ("old@example.com", "fresh@example.com"):
            await owner.post(
                "/users/invite", data={"csrf_token": token, "email": email, "role": "member"}
            )
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(UserToken)
            .where(UserToken.email == "old@example.com")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    pruned = await prune(runtime.sessionmaker, runtime.settings)
    assert pruned.user_tokens == 1
    async with runtime.sessionmaker() as session:
        assert list(await session.scalars(select(UserToken.email))) == ["fresh@example.com"]


async def test_an_accounts_links_are_throttled(runtime_factory: Callable[..., Runtime]) -> None:
    runtime = runtime_factory(links_per_account="2/h")
    account = await make_account(runtime)
    refused_before = _rate_limited("account_links")
    async with _signed_in(create_app(runtime=runtime), account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        answers = [
            await owner.post(
                "/users/invite",
                data={"csrf_token": token, "email": f"n{n}@example.com", "role": "member"},
            )
            for n in range(3)
        ]
        reset = await owner.post(f"/users/{account.user.id}/reset-link", data={"csrf_token": token})
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Too many links were made for this account" in answers[2].text
    assert "Retry-After" in answers[2].headers
    assert reset.status_code == 429  # the same budget
    assert _rate_limited("account_links") - refused_before == 2


async def test_a_cancelled_invitation_no_longer_opens(app: FastAPI, account: TestAccount) -> None:
    async with _signed_in(app, account.user.email) as owner:
        token = csrf_of((await owner.get("/users")).text)
        made = await owner.post(
            "/users/invite",
            data={"csrf_token": token, "email": "gone@example.com", "role": "member"},
        )
        link = made.text.split('id="shown-link"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        path = httpx.URL(link).path
        assert (await owner.get(path)).status_code == 200
        cancel = made.text.split('action="/users/invites/', 1)[1].split('"', 1)[0]
        assert path.rsplit("/", 1)[1] not in cancel  # the page names the hash, never the token
        done = await owner.post(f"/users/invites/{cancel}", data={"csrf_token": token})
        assert done.status_code == 303
        listed = await owner.get(done.headers["location"])
        assert "The invitation was cancelled" in listed.text
        assert "gone@example.com" not in listed.text
        assert (await owner.get(path)).status_code == 410
        again = await owner.post(f"/users/invites/{cancel}", data={"csrf_token": token})
        assert again.status_code == 404
