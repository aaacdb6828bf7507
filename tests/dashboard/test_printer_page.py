"""[ext] A printer's page: its facts in words, its jobs, its IPP addresses and how to add
it on each system, in both languages; its share link made, shown once, revoked and
replaced; and nothing of another account's printer."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from fastapi import FastAPI

from printcloud.server.computers import share_tokens
from printcloud.server.dashboard import ipp_addresses
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import page_token, web_login
from tests.helpers.jobs import submit

_SHARE = re.compile(r"ipps?://[^\"<\s]+/ipp/share/(ps_[A-Za-z0-9_-]+)")


def _main(page: httpx.Response) -> str:
    return html.unescape(page.text.split("<main", 1)[1])


async def _resolves(runtime: Runtime, token: str) -> str | None:
    async with runtime.sessionmaker() as session:
        printer = await share_tokens.printer_for_share_token(session, token)
    return printer.id if printer else None


async def test_the_page_shows_the_printer_its_jobs_and_its_addresses(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    job_id = await submit(client, account, printer_id)
    await web_login(client, account.user.email)
    overview = await client.get("/")
    assert f'href="/printers/{printer_id}"' in overview.text  # linked where it is listed
    page = await client.get(f"/printers/{printer_id}")
    assert page.status_code == 200
    text = _main(page)
    for fact in ("HP LaserJet Pro", "Office-PC", "Prints in color", "Prints on both sides"):
        assert fact in text, fact
    assert "A4, Letter" in text
    assert "Tray 1, Manual" in text
    assert f'href="/jobs/{job_id}"' in page.text
    assert f'href="/jobs?printer={printer_id}"' in page.text
    # Plain http on the default port: IPP's own default port (631) is not ours.
    ipp = f"ipp://testserver:80/ipp/print/{printer_id}"
    assert ipp in text
    assert f"http://testserver/ipp/print/{printer_id}" in text
    assert f"lpadmin -p HP_LaserJet_Pro -E -v {ipp} -m everywhere" in text
    assert f'<code id="cmd-windows">http://testserver/ipp/print/{printer_id}</code>' in text
    assert f"<code>ipp/print/{printer_id}</code>" in text  # macOS's queue, iOS's path
    assert "<code>testserver:80</code>" in text  # macOS's address
    assert "<code>testserver</code>" in text  # iOS's, with its port apart
    assert re.search(r"<dt>Force TLS</dt><dd>No</dd>", text)
    for system in ("macOS", "Windows 10, 11", "Linux", "iPhone, iPad", "Android"):
        assert f"<h3>{system}</h3>" in text, system
    assert "Select a shared printer by name" in text
    assert "GNOME Settings" in text
    assert "Android cannot add this printer" in text
    assert "This printer has no share link." in text


async def test_behind_tls_the_addresses_are_ipps_and_https(
    app: FastAPI, account: TestAccount, printer_id: str
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://print.example.com"
    ) as client:
        await web_login(client, account.user.email)
        text = _main(await client.get(f"/printers/{printer_id}"))
    assert f"ipps://print.example.com:443/ipp/print/{printer_id}" in text
    assert f"https://print.example.com/ipp/print/{printer_id}" in text
    assert "ipp://" not in text
    assert re.search(r"<dt>Force TLS</dt><dd>Yes</dd>", text)


async def test_the_page_in_hebrew(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    await web_login(client, account.user.email)
    await client.get("/lang/he")
    page = await client.get(f"/printers/{printer_id}")
    assert '<html lang="he" dir="rtl">' in page.text
    text = _main(page)
    for hebrew in ("הדפסה מכל מחשב (IPP)", "מדפיסה בצבע", "הוספת המדפסת", "למדפסת הזו אין"):
        assert hebrew in text, hebrew
    # The addresses and commands are the same, left to right.
    assert (
        f'<code id="cmd-linux">lpadmin -p HP_LaserJet_Pro -E -v ipp://testserver:80/ipp/print/{printer_id}'
        in text
    )
    for english in ("Prints in color", "Adding the printer", "Share link", "Print from any"):
        assert english not in text, english


async def test_a_share_link_is_shown_once_then_revoked_and_replaced(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client, f"/printers/{printer_id}")
    created = await client.post(f"/printers/{printer_id}/share-token", data={"csrf_token": token})
    assert created.status_code == 200
    text = _main(created)
    [first] = set(_SHARE.findall(text))
    assert f"ipp://testserver:80/ipp/share/{first}" in text
    assert f"http://testserver/ipp/share/{first}" in text
    assert f"-v ipp://testserver:80/ipp/share/{first} -m everywhere" in text
    assert await _resolves(runtime, first) == printer_id

    again = _main(await client.get(f"/printers/{printer_id}"))
    assert first not in again  # shown once
    assert "This printer has a share link." in again
    assert f"{first[:9]}…" in again  # which one, by its first characters

    replaced = await client.post(f"/printers/{printer_id}/share-token", data={"csrf_token": token})
    [second] = set(_SHARE.findall(_main(replaced)))
    assert second != first
    assert await _resolves(runtime, first) is None
    assert await _resolves(runtime, second) == printer_id

    revoked = await client.post(
        f"/printers/{printer_id}/share-token/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 200
    assert "The share link was revoked" in revoked.text
    assert "This printer has no share link." in revoked.text
    assert await _resolves(runtime, second) is None


async def test_a_share_link_needs_the_forms_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    await web_login(client, account.user.email)
    forged = await client.post(f"/printers/{printer_id}/share-token", data={"csrf_token": "x"})
    assert forged.status_code == 403
    assert not _SHARE.search(forged.text)
    async with runtime.sessionmaker() as session:
        live = await share_tokens.live_share_token(session, account.account_id, printer_id)
    assert live is None


async def test_another_accounts_printer_page_is_not_found(
    app: FastAPI,
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    other_account: TestAccount,
    printer_id: str,
) -> None:
    await web_login(client, account.user.email)
    token = await page_token(client, f"/printers/{printer_id}")
    mine = await client.post(f"/printers/{printer_id}/share-token", data={"csrf_token": token})
    [theirs] = set(_SHARE.findall(_main(mine)))
    async with client_for(app) as stranger:
        await web_login(stranger, other_account.user.email)
        their_token = await page_token(stranger, "/")
        page = await stranger.get(f"/printers/{printer_id}")
        assert page.status_code == 404
        assert "HP LaserJet Pro" not in page.text
        for path in (
            f"/printers/{printer_id}/share-token",
            f"/printers/{printer_id}/share-token/revoke",
        ):
            response = await stranger.post(path, data={"csrf_token": their_token})
            assert response.status_code == 404, path
            assert not _SHARE.search(response.text)
    assert await _resolves(runtime, theirs) == printer_id  # neither replaced nor revoked
    assert (await client.get("/printers/prn_nosuch")).status_code == 404


@pytest.mark.parametrize(
    ("server", "ipp", "http", "host_port"),
    [
        (
            "http://127.0.0.1:8080",
            "ipp://127.0.0.1:8080/ipp/print/p",
            "http://127.0.0.1:8080/ipp/print/p",
            "127.0.0.1:8080",
        ),
        (
            "https://print.example.com",
            "ipps://print.example.com:443/ipp/print/p",
            "https://print.example.com/ipp/print/p",
            "print.example.com:443",
        ),
        (
            "https://example.com:8443/printcloud",
            "ipps://example.com:8443/printcloud/ipp/print/p",
            "https://example.com:8443/printcloud/ipp/print/p",
            "example.com:8443",
        ),
        (
            "http://[::1]:8080",
            "ipp://[::1]:8080/ipp/print/p",
            "http://[::1]:8080/ipp/print/p",
            "[::1]:8080",
        ),
    ],
)
def test_ipp_addresses_spell_out_the_port(server: str, ipp: str, http: str, host_port: str) -> None:
    address = ipp_addresses.print_address(server, "p")
    assert (address.ipp, address.http, address.host_port) == (ipp, http, host_port)
    assert address.queue == http.split("/", 3)[3]


def test_a_queue_name_is_safe_in_a_shell_and_for_cups() -> None:
    assert ipp_addresses.queue_name("HP LaserJet Pro") == "HP_LaserJet_Pro"
    assert ipp_addresses.queue_name("a'b; rm -rf ~") == "a_b__rm_-rf"
    assert ipp_addresses.queue_name("מדפסת") == "PrintCloud"


async def test_a_stranger_is_sent_to_log_in(client: httpx.AsyncClient, printer_id: str) -> None:
    page = await client.get(f"/printers/{printer_id}")
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/printers/{printer_id}"
    posted = await client.post(f"/printers/{printer_id}/share-token", data={"csrf_token": "x"})
    assert posted.status_code == 401
    assert not _SHARE.search(posted.text)
