"""[ext] The printer page in headless Chromium: from the overview to the printer, a share
link made and copied as shown, and gone from the page on the next visit."""

from __future__ import annotations

from playwright.async_api import expect

from printcloud.server.computers import share_tokens
from tests.helpers.accounts import make_account
from tests.helpers.browser import chromium, log_in
from tests.helpers.live_server import LiveServer


async def test_a_share_link_is_made_on_the_printer_page_and_copied(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    computer = await account.add_computer(dash.runtime, name="Front-Desk", state="offline")
    async with chromium() as browser:
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        await log_in(page, dash.url, account)
        await page.get_by_role("link", name="HP LaserJet Pro").click()
        await page.wait_for_url(f"{dash.url}/printers/prn_*")
        printer_id = page.url.rsplit("/", 1)[1]
        await expect(page.get_by_role("heading", level=1)).to_contain_text("HP LaserJet Pro")
        await expect(page.get_by_text("Front-Desk")).to_be_visible()
        port = dash.url.rsplit(":", 1)[1]
        ipp_url = f"ipp://127.0.0.1:{port}/ipp/print/{printer_id}"
        await expect(page.get_by_label("Printer address (IPP)", exact=True)).to_have_value(ipp_url)

        await page.get_by_role("button", name="Create a share link").click()
        shown = page.get_by_label("Share link (IPP)", exact=True)
        share_url = await shown.input_value()
        assert share_url.startswith(f"ipp://127.0.0.1:{port}/ipp/share/ps_")
        await page.get_by_role("button", name="Copy: Share link (IPP)").click()
        await expect(page.get_by_text("Copied")).to_be_visible()
        copied = await page.evaluate("navigator.clipboard.readText()")
        assert copied == share_url
        token = copied.rsplit("/", 1)[1]
        async with dash.runtime.sessionmaker() as session:
            printer = await share_tokens.printer_for_share_token(session, token)
        assert printer is not None
        assert (printer.id, printer.computer_id) == (printer_id, computer.id)

        await page.goto(f"{dash.url}/printers/{printer_id}")  # a view, not the form again
        await expect(page.get_by_text("This printer has a share link.")).to_be_visible()
        assert token not in await page.content()
        await expect(page.locator("dd code", has_text="ps_")).to_have_text(token[:9] + "…")
        await page.get_by_role("button", name="Revoke the share link").click()
        await expect(page.get_by_text("The share link was revoked")).to_be_visible()
        async with dash.runtime.sessionmaker() as session:
            assert await share_tokens.printer_for_share_token(session, token) is None
