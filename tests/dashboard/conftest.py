"""Dashboard fixtures: a browser-like HTTP client that logs in, and a live server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from printcloud.server.runtime import Runtime
from tests.conftest import PASSWORD, TestAccount
from tests.live import LiveServer, serve

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def web_login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Log in through the form, as a browser does: the login page first, then the POST."""
    page = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_of(page.text)}
    )


async def page_token(client: httpx.AsyncClient, path: str = "/keys") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


@pytest.fixture
async def dash(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """A live server with quick sweeps, a quick live view and local webhook receivers."""
    runtime = runtime_factory(
        sweep_interval=0.2,
        dashboard_live_interval=0.1,
        allow_private_urls=True,
        webhook_poll_interval=0.1,
    )
    async with serve(runtime) as server:
        yield server


def browser_client(base_url: str, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=30, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


async def logged_in(base_url: str, account: TestAccount) -> httpx.AsyncClient:
    client = browser_client(base_url)
    response = await web_login(client, account.user.email)
    assert response.status_code == 303, response.text
    return client
