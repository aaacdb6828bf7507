"""Teams in headless Chromium: an owner invites a member (by e-mail through a real SMTP
server, or by a link shown to the owner), the member prints but cannot open the keys;
a password reset by e-mail works once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from playwright.async_api import Browser, Page, expect

from printcloud.server.runtime import Runtime
from tests.helpers.accounts import PASSWORD, TestAccount, make_account
from tests.helpers.browser import chromium, log_in
from tests.helpers.live_server import LiveServer, serve
from tests.helpers.smtp import Inbox, link_in, smtp_server

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture
async def mail_server(
    runtime_factory: Callable[..., Runtime], inbox: Inbox
) -> AsyncIterator[LiveServer]:
    runtime = runtime_factory(sweep_interval=0.2, smtp_url=inbox.url())
    async with serve(runtime) as server:
        yield server


@pytest.fixture
async def plain_server(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    async with serve(runtime_factory(sweep_interval=0.2)) as server:
        yield server


async def _invite(page: Page, server: LiveServer, owner: TestAccount, email: str) -> None:
    await log_in(page, server.url, owner)
    await page.get_by_role("link", name="Users").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Role").select_option("member")
    await page.get_by_role("button", name="Invite a user").click()


async def _join(browser: Browser, server: LiveServer, link: str) -> Page:
    """The invitee opens the link in a browser of their own and joins."""
    page = await (await browser.new_context()).new_page()
    await page.goto(link)
    await page.get_by_label("First name").fill("Mia")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Join").click()
    await page.wait_for_url(server.url + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return page


async def test_an_invited_member_prints_a_test_page_but_cannot_open_the_keys(
    mail_server: LiveServer, inbox: Inbox
) -> None:
    owner = await make_account(mail_server.runtime)
    await owner.add_computer(mail_server.runtime, printers=("Front Printer",))
    async with chromium() as browser:
        owner_page = await browser.new_page()
        await _invite(owner_page, mail_server, owner, "mia@example.com")
        await expect(owner_page.get_by_role("status")).to_contain_text(
            "An e-mail with the link was sent to mia@example.com"
        )
        message = await inbox.next()
        assert message["To"] == "mia@example.com"
        link = link_in(message)
        assert link.startswith(mail_server.url + "/invite/")

        member = await _join(browser, mail_server, link)
        navigation = member.get_by_role("navigation", name="Main menu")
        await expect(navigation.get_by_role("link", name="Print jobs")).to_be_visible()
        await expect(navigation.get_by_role("link", name="API keys")).to_have_count(0)
        await expect(navigation.get_by_role("link", name="Users")).to_have_count(0)

        await member.get_by_role("button", name="Print a test page on Front Printer").click()
        await member.wait_for_url(f"{mail_server.url}/jobs/pj_*")
        await expect(member.locator("h1 [data-job-state]")).to_have_text("Pending")

        refused = await member.goto(mail_server.url + "/keys")
        assert refused is not None
        assert refused.status == 403
        await expect(member.get_by_role("alert")).to_contain_text(
            "Only an owner of the account can open this page"
        )

        # The owner sees the new member on the users page.
        await owner_page.reload()
        row = owner_page.locator("tr", has_text="mia@example.com")
        await expect(row).to_contain_text("Member")


async def test_a_password_reset_by_mail_works_once(mail_server: LiveServer, inbox: Inbox) -> None:
    account = await make_account(mail_server.runtime)
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(mail_server.url + "/login")
        await page.get_by_role("link", name="Forgot your password?").click()
        await page.get_by_label("E-mail").fill(account.user.email)
        await page.get_by_role("button", name="Send the link").click()
        await expect(page.get_by_role("status")).to_contain_text("a link is on its way")

        link = link_in(await inbox.next())
        await page.goto(link)
        await page.get_by_label("New password").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set the password").click()
        await page.wait_for_url(mail_server.url + "/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")

        again = await page.goto(link)
        assert again is not None
        assert again.status == 410
        await expect(page.get_by_role("alert")).to_contain_text("This link cannot be used")

        # The new password is the password now.
        await page.goto(mail_server.url + "/")
        await page.get_by_role("button", name="Log out").click()
        await page.wait_for_url(mail_server.url + "/login")
        await page.get_by_label("E-mail").fill(account.user.email)
        await page.get_by_label("Password").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(mail_server.url + "/")


async def test_without_smtp_the_owner_sees_the_invite_link(plain_server: LiveServer) -> None:
    owner = await make_account(plain_server.runtime)
    async with chromium() as browser:
        page = await browser.new_page()
        await _invite(page, plain_server, owner, "noa@example.com")
        shown = page.locator("#shown-link")
        await expect(shown).to_be_visible()
        link = await shown.input_value()
        assert link.startswith(plain_server.url + "/invite/")
        await expect(page.get_by_text("Pass it on to the person you invited")).to_be_visible()

        member = await _join(browser, plain_server, link)
        await member.goto(plain_server.url + "/login")
        await member.get_by_role("link", name="Forgot your password?").click()
        await expect(member.get_by_text("Ask an owner of your account")).to_be_visible()
