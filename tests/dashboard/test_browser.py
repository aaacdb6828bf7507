"""The dashboard in headless Chromium, against a real server and a simulated agent."""

from __future__ import annotations

import base64
import secrets

import httpx
from playwright.async_api import expect

from printcloud.server.accounts.permissions import Permission
from printcloud.server.webhooks.delivery import deliver_due
from tests.helpers.accounts import PASSWORD, make_account
from tests.helpers.browser import chromium, live_view_open, log_in
from tests.helpers.live_server import LiveServer
from tests.helpers.webhooks import webhook_receiver
from tests.helpers.ws_agent import WsAgent


async def test_sign_up_create_a_key_see_it_once_and_revoke_it(dash: LiveServer) -> None:
    email = f"dana-{secrets.token_hex(3)}@example.com"
    async with chromium() as browser:
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        await page.goto(dash.url + "/signup")
        await page.get_by_label("First name").fill("Dana")
        await page.get_by_label("E-mail").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Create the account").click()
        await page.wait_for_url(dash.url + "/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")

        await page.get_by_role("link", name="API keys").click()
        await page.get_by_label("Description").fill("Shop")
        await page.get_by_label("Permission").select_option("print_only")
        await page.get_by_role("button", name="Create a key").click()
        key = await page.locator("#new-key").input_value()
        assert key.startswith("pk_live_")
        await page.get_by_role("button", name="Copy").click()
        await expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert await page.evaluate("navigator.clipboard.readText()") == key

        async with httpx.AsyncClient(base_url=dash.url) as api:
            assert (await api.get("/api/printers", auth=(key, ""))).status_code == 200
            await page.goto(dash.url + "/keys")  # shown once: not on the next view
            assert key not in await page.content()
            row = page.locator("tr", has_text="Shop")
            await expect(row).to_contain_text("Active")
            await row.get_by_role("button").click()
            await expect(page.locator("tr", has_text="Shop")).to_contain_text("Revoked")
            assert (await api.get("/api/printers", auth=(key, ""))).status_code == 401

        await page.get_by_role("button", name="Log out").click()
        await page.wait_for_url(dash.url + "/login")
        await page.goto(dash.url + "/keys")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


async def test_a_job_goes_from_pending_to_completed_on_screen(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    agent = WsAgent(dash.ws_url, account.keys[Permission.FULL], name="Front-Desk")
    assert (await agent.connect(printers=["Label Printer"]))["type"] == "auth_ok"
    async with chromium() as browser:
        page = await browser.new_page()
        await log_in(page, dash.url, account)
        computer_state = page.locator(f'[data-computer-state="{agent.computer_id}"]')
        await expect(computer_state).to_have_text("Online")
        await live_view_open(page)
        await agent.close()
        await expect(computer_state).to_have_text("Offline")  # live, without a reload

        await page.get_by_role("button", name="Print a test page on Label Printer").click()
        await page.wait_for_url(f"{dash.url}/jobs/pj_*")
        job_id = page.url.rsplit("/", 1)[1]
        state = page.locator("h1 [data-job-state]")
        await expect(state).to_have_text("Pending")
        await expect(page.get_by_role("img", name="The first page of the document")).to_be_visible()
        await live_view_open(page)

        again = WsAgent(dash.ws_url, account.keys[Permission.FULL], name="Front-Desk")
        assert (await again.connect(printers=["Label Printer"]))["type"] == "auth_ok"
        sent = await again.recv()
        assert sent["type"] == "print_job"
        assert sent["job"]["id"] == job_id
        await expect(state).to_have_text("Sent")
        await again.report(job_id, "printing")
        await expect(state).to_have_text("Printing")
        await again.report(job_id, "completed", "Printed")
        await expect(state).to_have_text("Completed")
        history = page.locator(f'[data-job-history="{job_id}"]')
        await expect(history).to_contain_text("Printed")
        await again.close()

        await page.reload()  # and the server agrees
        await expect(state).to_have_text("Completed")


async def test_a_webhook_is_added_and_its_deliveries_shown(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    # Offline, so that no sweep takes it offline with an event (a delivery) of its own.
    computer = await account.add_computer(dash.runtime, state="offline")
    async with webhook_receiver(status=204) as receiver, chromium() as browser:
        hook_url = receiver.url
        page = await browser.new_page()
        await log_in(page, dash.url, account)
        await page.get_by_role("link", name="Webhooks").click()
        await page.get_by_label("URL").fill(hook_url + "/printcloud")
        await page.get_by_role("button", name="Add a webhook").click()
        await expect(page.get_by_text("Copy it now")).to_be_visible()  # the generated secret
        await page.get_by_role("link", name=hook_url + "/printcloud").click()
        await expect(page.get_by_text("Nothing delivered yet.")).to_be_visible()

        async with httpx.AsyncClient(base_url=dash.url) as api:
            printers = (await api.get("/api/printers", auth=account.auth())).json()
            printer = next(p for p in printers if p["computerId"] == computer.id)
            created = await api.post(
                "/api/printjobs",
                auth=account.auth(),
                json={
                    "printerId": printer["id"],
                    "contentType": "raw_base64",
                    "content": base64.b64encode(b"hello").decode(),
                },
            )
            assert created.status_code == 201
        # The server has no delivery worker: the test delivers, as the worker would.
        assert await deliver_due(dash.runtime.sessionmaker, dash.runtime.settings) == 1
        [first] = receiver.received
        await page.reload()
        row = page.locator("[data-delivery]").first
        await expect(row.locator("summary")).to_contain_text("Job created")
        await expect(row.locator("summary")).to_contain_text("Succeeded")
        await expect(row.locator("summary [data-answer]")).to_have_text("HTTP 204")

        await row.locator("summary").click()
        await row.get_by_role("button", name="Send again").click()
        await expect(page.get_by_text("The event will be sent again.")).to_be_visible()
        assert await deliver_due(dash.runtime.sessionmaker, dash.runtime.settings) == 1
        [_, again] = receiver.received
        assert again.body == first.body


async def test_a_test_event_is_sent_from_the_webhook_page_and_its_delivery_opened(
    dash: LiveServer,
) -> None:
    account = await make_account(dash.runtime)
    async with webhook_receiver(status=503) as receiver, chromium() as browser:
        async with httpx.AsyncClient(base_url=dash.url) as api:
            hook = await api.post(
                "/api/webhooks",
                auth=account.auth(),
                json={"url": receiver.url + "/hook", "events": ["printer.state"]},
            )
        page = await browser.new_page(locale="en-US")
        await log_in(page, dash.url, account)
        await page.goto(f"{dash.url}/webhooks/{hook.json()['id']}")
        await expect(page.get_by_text("Nothing delivered yet.")).to_be_visible()

        await page.get_by_role("button", name="Send a test event").click()
        await expect(page.get_by_text("A test event was queued")).to_be_visible()
        delivery = page.locator("[data-delivery]")
        await expect(delivery.locator("summary")).to_contain_text("Test event")
        await expect(delivery.locator("summary")).to_contain_text("Pending")

        # The server has no delivery worker: the test delivers, as the worker would.
        assert await deliver_due(dash.runtime.sessionmaker, dash.runtime.settings) == 1
        [received] = receiver.received
        assert received.json["type"] == "webhook.test"
        # No reload: the page follows a delivery that waits for its first try.
        summary = delivery.locator("summary")
        await expect(summary).to_contain_text("Failed — retrying (attempt 1 of 11)")
        await expect(summary).to_contain_text("next attempt at")
        await expect(summary.locator("[data-answer]")).to_have_text("HTTP 503")
        payload = delivery.locator("[data-payload]")
        await expect(payload).to_be_hidden()  # closed until opened

        await summary.click()
        await expect(payload).to_be_visible()
        await expect(payload).to_contain_text('"type": "webhook.test"')
        attempt = delivery.locator('tr[data-attempt="1"]')
        await expect(attempt.locator("[data-attempt-answer]")).to_have_text("HTTP 503")
        await expect(attempt).to_contain_text("answer 503")
        await expect(delivery.locator("[data-next-attempt]")).to_be_visible()


async def test_switching_to_hebrew_and_back(dash: LiveServer) -> None:
    account = await make_account(dash.runtime)
    async with chromium() as browser:
        page = await browser.new_page(locale="en-US")
        await log_in(page, dash.url, account)
        html = page.locator("html")
        await expect(html).to_have_attribute("dir", "ltr")
        await page.get_by_role("link", name="Print jobs").click()
        await page.get_by_role("link", name="עברית").click()
        await expect(html).to_have_attribute("dir", "rtl")
        await expect(html).to_have_attribute("lang", "he")
        assert page.url == dash.url + "/jobs"  # the same page, in Hebrew
        await expect(page.get_by_role("heading", level=1)).to_have_text("עבודות הדפסה")
        await expect(page.get_by_role("link", name="סקירה")).to_be_visible()
        await page.get_by_role("link", name="English").click()
        await expect(html).to_have_attribute("dir", "ltr")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Print jobs")


async def test_a_hebrew_browser_gets_hebrew_first(dash: LiveServer) -> None:
    async with chromium() as browser:
        page = await browser.new_page(locale="he-IL", extra_http_headers={"Accept-Language": "he"})
        await page.goto(dash.url + "/login")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.get_by_role("heading", level=1)).to_have_text("התחברות")
