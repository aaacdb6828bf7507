"""``/api/docs`` on a network with no way out: every file it needs is the server's."""

from __future__ import annotations

import pytest
from playwright.async_api import Route, expect

from tests.helpers.browser import chromium
from tests.helpers.live_server import LiveServer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_api_reference_loads_with_every_outside_request_blocked(
    dash: LiveServer,
) -> None:
    blocked: list[str] = []

    async def only_the_server(route: Route) -> None:
        if route.request.url.startswith(dash.url + "/"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    async with chromium() as browser:
        page = await browser.new_page()
        await page.route("**/*", only_the_server)
        await page.goto(dash.url + "/api/docs")
        operation = page.locator(".opblock-summary-path", has_text="/api/printjobs").first
        await expect(operation).to_be_visible(timeout=15_000)
        paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/computers", "/api/printers", "/api/printjobs"} <= {p.strip() for p in paths}
    assert blocked == []
