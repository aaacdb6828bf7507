"""Headless Chromium (Debian's ``chromium``) driven by Playwright."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.helpers import services
from tests.helpers.accounts import PASSWORD, TestAccount

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()  # looked at once, at import


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        # `playwright install` downloads browsers; we use the distribution's instead.
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if services.REQUIRED:
            pytest.fail(f"{message}, and PRINTCLOUD_TEST_REQUIRE_SERVICES=1 requires it")
        pytest.skip(f"{message}: the browser tests are skipped")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def log_in(page: Page, base_url: str, account: TestAccount) -> None:
    await page.goto(base_url + "/login")
    await page.get_by_label("E-mail").fill(account.user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(base_url + "/")


async def live_view_open(page: Page) -> None:
    """Wait until the page's event stream is connected, so no change is missed."""
    await page.wait_for_function("document.body.dataset.live === 'open'")
