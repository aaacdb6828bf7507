"""Screenshots of the main pages in English and Hebrew, on a desktop and a phone.

Each run writes them under the test's temporary directory; ``scripts/screenshots``
sets PRINTCLOUD_SCREENSHOTS_DIR to write the ones shown in the README.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page

from printcloud.server.accounts.permissions import Permission
from printcloud.server.dashboard.testpage import make_test_page
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.webhooks import service as webhooks
from printcloud.server.webhooks.delivery import deliver_due
from tests.helpers.accounts import PASSWORD, make_account
from tests.helpers.browser import chromium
from tests.helpers.live_server import LiveServer
from tests.helpers.webhooks import webhook_receiver
from tests.helpers.ws_agent import WsAgent

_PNG = b"\x89PNG\r\n\x1a\n"


async def _print(
    api: httpx.AsyncClient, key: str, printer_id: str, title: str, *, pdf: bool = False
) -> str:
    body: dict[str, object] = {
        "printerId": printer_id,
        "title": title,
        "contentType": "raw_base64",
        "content": base64.b64encode(b"Hello from PrintCloud\n").decode(),
    }
    if pdf:
        document = make_test_page("Office LaserJet", "Reception-PC", utcnow())
        body["contentType"] = "pdf_base64"
        body["content"] = base64.b64encode(document).decode()
        body["options"] = {"copies": 2, "duplex": "long-edge", "paper": "A4"}
    created = await api.post("/api/printjobs", auth=(key, ""), json=body)
    assert created.status_code == 201, created.text
    job_id: str = created.json()
    return job_id


async def _log_in(page: Page, base_url: str, email: str) -> None:
    """By field ids, whatever the language of the labels."""
    await page.goto(base_url + "/login")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_url(base_url + "/")


async def _capture(page: Page, path: Path) -> None:
    data = await page.screenshot(path=str(path), full_page=True)
    assert data.startswith(_PNG)


async def _send_test_event(dash: LiveServer, account_id: str, webhook_id: str) -> None:
    async with unit_of_work(dash.runtime.sessionmaker) as session:
        await webhooks.send_test_event(session, account_id, webhook_id)


async def _shot(page: Page, url: str, path: Path) -> None:
    await page.goto(url)
    await _capture(page, path)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = Path(os.environ.get("PRINTCLOUD_SCREENSHOTS_DIR") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def test_screenshots_of_the_main_pages(dash: LiveServer, target: Path) -> None:
    written: list[str] = []
    account = await make_account(dash.runtime, email="office@example.com")
    key = account.keys[Permission.FULL]
    reception = WsAgent(dash.ws_url, key, name="Reception-PC", os="Windows")
    warehouse = WsAgent(dash.ws_url, key, name="Warehouse-Mac", os="macOS")
    await reception.connect(printers=["Office LaserJet", "Zebra ZD420"])
    await warehouse.connect(printers=["Brother HL-L2350"])
    async with (
        httpx.AsyncClient(base_url=dash.url) as api,
        webhook_receiver(status=204) as receiver,
        chromium() as browser,
    ):
        printers = {
            p["name"]: p["id"] for p in (await api.get("/api/printers", auth=(key, ""))).json()
        }
        hook = await api.post(
            "/api/webhooks",
            auth=(key, ""),
            json={"url": receiver.url + "/printcloud", "events": ["all"]},
        )
        await warehouse.close()
        done = await _print(api, key, printers["Office LaserJet"], "Invoice #456", pdf=True)
        label = await _print(api, key, printers["Zebra ZD420"], "Shipping label 1182", pdf=False)
        jammed = await _print(api, key, printers["Office LaserJet"], "Delivery note 77", pdf=False)
        for job_id, outcome in ((done, "completed"), (label, "completed"), (jammed, "error")):
            message = await reception.recv()
            assert message["job"]["id"] == job_id
            await reception.report(job_id, "printing")
            await reception.report(
                job_id, outcome, "Paper jam in tray 1" if outcome == "error" else "Printed"
            )
        await _print(api, key, printers["Brother HL-L2350"], "Packing list", pdf=False)
        # Deliveries to show on the webhook page; the server has no worker: the test sends.
        assert await deliver_due(dash.runtime.sessionmaker, dash.runtime.settings) >= 5
        # Then the receiver fails a test event (retrying), and another waits its first try.
        receiver.status = 503
        await _send_test_event(dash, account.account_id, hook.json()["id"])
        assert await deliver_due(dash.runtime.sessionmaker, dash.runtime.settings) == 1
        await _send_test_event(dash, account.account_id, hook.json()["id"])
        for lang in ("en", "he"):
            context = await browser.new_context(viewport={"width": 1200, "height": 800})
            await context.add_cookies([{"name": "lang", "value": lang, "url": dash.url}])
            page = await context.new_page()
            await _log_in(page, dash.url, account.user.email)
            pages = {
                "overview": "/",
                "jobs": "/jobs",
                "job": f"/jobs/{done}",
                "webhooks": f"/webhooks/{hook.json()['id']}",
                "connect": "/connect",
            }
            for name, path in pages.items():
                await page.goto(dash.url + path)
                if name == "webhooks":  # the failed delivery, opened onto its attempts
                    await page.locator("[data-delivery] summary").nth(1).click()
                await _capture(page, target / f"{name}-{lang}.png")
                written.append(f"{name}-{lang}.png")
            await page.goto(dash.url + "/keys")
            await page.locator("#description").fill("Web shop" if lang == "en" else "חנות אונליין")
            await page.locator("#permission").select_option("print_only")
            await page.locator("form.row-form button").click()
            await page.locator("#new-key").wait_for()
            await _capture(page, target / f"keys-{lang}.png")  # the new key, shown once
            written.append(f"keys-{lang}.png")
            await context.close()
        phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        await phone.add_cookies([{"name": "lang", "value": "he", "url": dash.url}])
        page = await phone.new_page()
        await _log_in(page, dash.url, account.user.email)
        await _shot(page, dash.url + "/", target / "overview-he-phone.png")
        written.append("overview-he-phone.png")
        await phone.close()
    await reception.close()
    assert len(written) == 13
