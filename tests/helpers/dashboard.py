"""The dashboard as a browser-like HTTP client sees it: logging in through the form,
and the CSRF token of a page's forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.helpers.accounts import PASSWORD, TestAccount

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
    """The CSRF token of the forms of the page at ``path``."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def browser_client(base_url: str, **kwargs: Any) -> httpx.AsyncClient:
    """A client that keeps cookies and, like a test reading redirects, does not follow them."""
    return httpx.AsyncClient(base_url=base_url, timeout=30, follow_redirects=False, **kwargs)


async def logged_in(base_url: str, account: TestAccount) -> httpx.AsyncClient:
    """A ``browser_client`` with the session of ``account``'s user."""
    client = browser_client(base_url)
    response = await web_login(client, account.user.email)
    assert response.status_code == 303, response.text
    return client
