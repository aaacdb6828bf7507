"""Hebrew and English: complete catalogs, the browser's choice, the switch."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import select

from printcloud.protocol.content import ContentType
from printcloud.protocol.events import TEST_EVENT
from printcloud.protocol.job_states import JobState
from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.roles import Role
from printcloud.server.dashboard import i18n, job_words
from printcloud.server.dashboard.pages import WEBHOOK_EVENTS
from printcloud.server.dashboard.web import STATES
from printcloud.server.db.models import PrintJob
from printcloud.server.jobs import service as job_service
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.dashboard import web_login
from tests.helpers.jobs import submit

TEMPLATES = Path(i18n.__file__).parent / "templates"
_KEY_USE = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(i18n.EN) == set(i18n.HE)
    assert all(value.strip() for value in (*i18n.EN.values(), *i18n.HE.values()))


def test_every_key_a_template_uses_is_in_the_catalogs() -> None:
    used = {m for path in TEMPLATES.glob("*.html") for m in _KEY_USE.findall(path.read_text())}
    fixed = {key for key in used if not key.endswith(".")}
    assert fixed - set(i18n.EN) == set()
    # Keys built from a value (t("state." ~ job.state)): every value has its key.
    families = {
        "state.": STATES,
        "perm.": [p.value for p in Permission],
        "event.": [*WEBHOOK_EVENTS, TEST_EVENT],
        "content_type.": [c.value for c in ContentType],
        "role.": [r.value for r in Role],
    }
    assert used - fixed == set(families)
    for prefix, values in families.items():
        assert {prefix + v for v in values} <= set(i18n.EN), prefix


# Hebrew entries that are the English entry by design, each with its reason. Any other
# Hebrew entry equal to the English one is an untranslated copy.
SAME_IN_BOTH = {
    "app.name": "the product's name, a brand",
    "common.none": "a dash in an empty cell: a sign, not a word",
}
# Hebrew entries without a Hebrew letter that are not copies: the language switch names
# the other language in its own words.
LATIN_IN_HEBREW = {
    "lang.other_name": "the switch to English says English",
    "lang.other_code": "the code of the other language, en",
}


def test_hebrew_is_hebrew() -> None:
    copies = {key for key, value in i18n.HE.items() if value == i18n.EN[key]}
    assert copies - set(SAME_IN_BOTH) == set(), "copied from English, not translated"
    assert set(SAME_IN_BOTH) <= copies, "translated now: take them off SAME_IN_BOTH"
    hebrew = re.compile(r"[\u0590-\u05FF]")
    latin = {key for key, value in i18n.HE.items() if not hebrew.search(value)}
    assert latin == set(SAME_IN_BOTH) | set(LATIN_IN_HEBREW)
    assert i18n.HE["nav.overview"] == "סקירה"


async def test_the_browsers_language_picks_hebrew(client: httpx.AsyncClient) -> None:
    page = await client.get("/login", headers={"Accept-Language": "he-IL,he;q=0.9,en;q=0.8"})
    assert '<html lang="he" dir="rtl">' in page.text
    assert "התחברות" in page.text
    english = await client.get("/login", headers={"Accept-Language": "fr,en;q=0.5,he;q=0.3"})
    assert '<html lang="en" dir="ltr">' in english.text


async def test_the_switch_sets_a_cookie_and_goes_back(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    await web_login(client, account.user.email)
    switched = await client.get("/lang/he", params={"next": "/jobs?state=error"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/jobs?state=error"
    page = await client.get("/jobs")
    assert '<html lang="he" dir="rtl">' in page.text
    assert "עבודות הדפסה" in page.text
    assert 'href="/lang/en?next=/jobs"' in page.text
    back = await client.get("/lang/en", params={"next": "https://evil.example/"})
    assert back.headers["location"] == "/"  # never off-site
    assert '<html lang="en" dir="ltr">' in (await client.get("/jobs")).text


def test_accept_language_parsing() -> None:
    pick = i18n._from_accept_language
    assert pick("he") == "he"
    assert pick("iw-IL") == "he"
    assert pick("en-US,he;q=0.9") == "en"
    assert pick("en;q=0.2,he;q=0.8") == "he"
    assert pick("de,fr") is None
    assert pick("he;q=0") is None


# What PrintCloud writes into a job's history (the server, and our agent's backends), as
# the API stores it, and what the Hebrew page shows instead.
HISTORY_IN_HEBREW = {
    "Job created": "העבודה נוצרה",
    "Sent to Office-PC": "נשלחה אל Office-PC",
    "Printing on HP LaserJet": "מודפסת ב־HP LaserJet",
    "Printed on HP LaserJet (CUPS job 12)": "הודפסה ב־HP LaserJet",
    "Printed on HP LaserJet (CUPS jobs 12, 13)": "הודפסה ב־HP LaserJet",
    "Printed on HP LaserJet with SumatraPDF": "הודפסה ב־HP LaserJet",
    "Printed on vm": "הודפסה ב־vm",
    "Printing failed on vm": "ההדפסה נכשלה ב־vm",
    "Written to /tmp/demo/pj_1.bin": "נכתבה אל /tmp/demo/pj_1.bin",
    "Not delivered before its expiry": "לא נמסרה לפני שפג תוקפה",
    "The computer was removed from the account": "המחשב הוסר מהחשבון",
    job_service.DISCONNECTED: "המחשב התנתק לפני שדיווח איך הסתיימה העבודה; ייתכן שהיא הודפסה",
    "The server could not get the document: HTTP 404": "השרת לא הצליח להשיג את המסמך: HTTP 404",
}


def test_every_history_message_printcloud_writes_is_shown_in_the_pages_language() -> None:
    he, en = i18n.translator("he"), i18n.translator("en")
    for stored, shown in HISTORY_IN_HEBREW.items():
        assert job_words.history_message(he, stored) == shown
    assert job_words.history_message(en, "Printed on HP (CUPS job 12)") == "Printed on HP"
    # A printer's or an agent's own words are shown as they came.
    assert job_words.history_message(he, "Paper jam in tray 2") == "Paper jam in tray 2"
    # Each shape the catalogs translate is among the messages above.
    covered = {
        key
        for stored in HISTORY_IN_HEBREW
        for shape, key in job_words._MESSAGES
        if shape.fullmatch(stored)
    }
    assert covered == {key for key in i18n.EN if key.startswith("history.")}


async def test_a_jobs_page_in_hebrew_has_no_english_words(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    job_id = await submit(
        client,
        account,
        printer_id,
        options={"copies": 2, "duplex": "long-edge", "color": False},
    )
    async with runtime.sessionmaker() as session:
        job = await session.scalar(select(PrintJob).where(PrintJob.id == job_id))
        assert job is not None
        await job_service.move_job(session, job, JobState.SENT, "Sent to Office-PC")
        await job_service.move_job(session, job, JobState.PRINTING, "Printing on HP LaserJet")
        await session.commit()
    await web_login(client, account.user.email)
    await client.get("/lang/he")
    page = (await client.get(f"/jobs/{job_id}")).text
    for hebrew in ("עותקים", "לאורך הצד הארוך", "צבע", "לא", "PDF (נשלח עם העבודה)"):
        assert hebrew in page
    for hebrew in ("העבודה נוצרה", "נשלחה אל Office-PC", "מודפסת ב־HP LaserJet"):
        assert hebrew in page
    for english in ("copies", "duplex", "long-edge", "pdf_base64", "Job created", "Sent to"):
        assert english not in page.split("<main", 1)[1], english
