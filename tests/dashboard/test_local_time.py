"""A Hebrew page in a browser away from UTC: history in Hebrew, live rows included, and
each time with the computer's own beside the UTC one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import make_account
from tests.helpers.browser import chromium, live_view_open, log_in
from tests.helpers.live_server import LiveServer
from tests.helpers.ws_agent import WsAgent

JERUSALEM = "Asia/Jerusalem"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_history_in_hebrew_with_local_times_live_rows_included(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    agent = WsAgent(dash.ws_url, account.keys[Permission.FULL], name="Front-Desk")
    assert (await agent.connect(printers=["HP"]))["type"] == "auth_ok"
    async with chromium() as browser:
        context = await browser.new_context(timezone_id=JERUSALEM)
        page = await context.new_page()
        await log_in(page, dash.url, account)
        await page.goto(dash.url + "/lang/he")
        await page.locator("form[action^='/printers/'] button").first.click()
        await page.wait_for_url(f"{dash.url}/jobs/pj_*")
        job_id = page.url.rsplit("/", 1)[1]
        history = page.locator(f'[data-job-history="{job_id}"]')
        await expect(history).to_contain_text("העבודה נוצרה")
        await live_view_open(page)

        sent = await agent.recv()
        assert sent["job"]["id"] == job_id
        await agent.report(job_id, "printing")  # the server's words: "Printing on Front-Desk"
        live_row = history.locator("tr").last
        await expect(live_row).to_contain_text("מודפסת ב־Front-Desk")

        for row in (history.locator("tr").first, live_row):
            utc = await row.locator("time").get_attribute("datetime")
            assert utc is not None
            moment = datetime.fromisoformat(utc.replace("Z", "+00:00"))
            local = moment.astimezone(ZoneInfo(JERUSALEM)).strftime("%H:%M")
            await expect(row.locator(".local-time")).to_contain_text(local)
        await agent.close()
