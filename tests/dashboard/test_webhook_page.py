"""A webhook's page as an event log: each delivery's status in words, its attempts with
their answers, its payload, a test event on demand, and older deliveries a page away."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from printcloud.outbound import Failure
from printcloud.server.app import create_app
from printcloud.server.dashboard import deliveries, i18n
from printcloud.server.db.models import Webhook
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from printcloud.server.webhooks.delivery import MAX_ATTEMPTS, deliver_due
from printcloud.server.webhooks.schemas import AttemptOut, DeliveryOut
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import page_token, web_login
from tests.helpers.webhooks import webhook_receiver

ONE_DAY = timedelta(days=1)


@pytest.fixture
def hooks_runtime(runtime_factory: Callable[..., Runtime]) -> Runtime:
    """Webhooks may go to loopback receivers; no worker: the test delivers."""
    return runtime_factory(allow_private_urls=True, run_webhook_worker=False)


@pytest.fixture
async def web(hooks_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(runtime=hooks_runtime)) as client:
        yield client


@pytest.fixture
async def owner(hooks_runtime: Runtime, web: httpx.AsyncClient) -> TestAccount:
    account = await make_account(hooks_runtime)
    await web_login(web, account.user.email)
    return account


async def _webhook(web: httpx.AsyncClient, account: TestAccount, url: str) -> str:
    created = await web.post(
        "/api/webhooks", auth=account.auth(), json={"url": url, "events": ["printer.state"]}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _send_test(web: httpx.AsyncClient, webhook_id: str) -> None:
    token = await page_token(web, f"/webhooks/{webhook_id}")
    sent = await web.post(f"/webhooks/{webhook_id}/test", data={"csrf_token": token})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/webhooks/{webhook_id}?done=test_sent"


async def _deliveries(
    web: httpx.AsyncClient, account: TestAccount, webhook_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = await web.get(
        f"/api/webhooks/{webhook_id}/deliveries", auth=account.auth(), params=params
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def _in(lang: str, key: str, **values: object) -> str:
    return i18n.translator(lang)(key, **values)


async def test_a_test_event_is_pending_then_a_refused_connection_reads_failed_retrying(
    web: httpx.AsyncClient, hooks_runtime: Runtime, owner: TestAccount
) -> None:
    webhook_id = await _webhook(web, owner, f"http://127.0.0.1:{_closed_port()}/hook")
    await _send_test(web, webhook_id)

    page = (await web.get(f"/webhooks/{webhook_id}?done=test_sent")).text
    assert _in("en", "webhooks.test_sent") in page
    assert ">Test event<" in page
    assert ">Pending</span>" in page

    sent = await deliver_due(hooks_runtime.sessionmaker, hooks_runtime.settings)
    assert sent == 1
    [delivery] = await _deliveries(web, owner, webhook_id)
    assert delivery["eventType"] == "webhook.test"
    assert delivery["payload"]["webhookId"] == webhook_id
    assert delivery["attempts"][0]["failure"] == "connection_refused"
    next_at = datetime.fromisoformat(delivery["nextAttemptAt"])
    today = next_at.date() == utcnow().date()
    at = next_at.strftime("%H:%M UTC" if today else "%Y-%m-%d %H:%M UTC")

    for lang in ("en", "he"):
        web.cookies.set("lang", lang)
        page = (await web.get(f"/webhooks/{webhook_id}")).text
        retrying = _in(lang, "delivery.retrying", attempt=1, max=MAX_ATTEMPTS, at=at)
        assert f">{retrying}</span>" in page
        assert (
            f'<span class="delivery-answer" data-answer>{_in(lang, "answer.connection_refused")}'
            in page
        )
        # The raw error is in the attempt's details, never the headline.
        summary = page.split("<summary>")[1].split("</summary>")[0]
        assert "Error" not in summary
        assert "127.0.0.1" not in summary
        assert "data-next-attempt" in page
        assert "&#34;type&#34;: &#34;webhook.test&#34;" in page  # the payload, pretty


async def test_an_http_error_answer_shows_its_status_body_and_duration(
    web: httpx.AsyncClient, hooks_runtime: Runtime, owner: TestAccount
) -> None:
    async with webhook_receiver(status=500) as receiver:
        webhook_id = await _webhook(web, owner, receiver.url + "/hook")
        await _send_test(web, webhook_id)
        assert await deliver_due(hooks_runtime.sessionmaker, hooks_runtime.settings) == 1
    [received] = receiver.received
    assert received.json["type"] == "webhook.test"
    [delivery] = await _deliveries(web, owner, webhook_id)

    page = (await web.get(f"/webhooks/{webhook_id}")).text
    attempt = page.split('<tr data-attempt="1">')[1].split("</tr>")[0]
    assert "<td data-attempt-answer>HTTP 500</td>" in attempt
    assert "answer 500" in attempt  # what the receiver said
    assert f"{delivery['attempts'][0]['durationMs']} ms" in attempt


async def test_a_test_event_goes_to_its_webhook_alone(
    web: httpx.AsyncClient, owner: TestAccount
) -> None:
    tested = await _webhook(web, owner, "http://127.0.0.1:9/tested")
    other = await _webhook(web, owner, "http://127.0.0.1:9/other")
    await _send_test(web, tested)

    assert len(await _deliveries(web, owner, tested)) == 1
    assert await _deliveries(web, owner, other) == []


async def test_a_test_event_needs_the_forms_token(
    web: httpx.AsyncClient, owner: TestAccount
) -> None:
    webhook_id = await _webhook(web, owner, "http://127.0.0.1:9/hook")
    refused = await web.post(f"/webhooks/{webhook_id}/test", data={"csrf_token": "x" * 43})
    assert refused.status_code == 403
    assert await _deliveries(web, owner, webhook_id) == []


async def test_a_disabled_webhook_offers_no_test_event_and_refuses_one(
    web: httpx.AsyncClient, hooks_runtime: Runtime, owner: TestAccount
) -> None:
    webhook_id = await _webhook(web, owner, "http://127.0.0.1:9/hook")
    token = await page_token(web, f"/webhooks/{webhook_id}")
    async with hooks_runtime.sessionmaker() as session:
        await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(active=False))
        await session.commit()

    page = (await web.get(f"/webhooks/{webhook_id}")).text
    assert _in("en", "webhooks.send_test") not in page
    refused = await web.post(f"/webhooks/{webhook_id}/test", data={"csrf_token": token})
    assert refused.status_code == 400
    assert "enable it" in refused.text
    assert await _deliveries(web, owner, webhook_id) == []


async def test_deliveries_are_paged_newest_first_with_a_link_to_older_ones(
    web: httpx.AsyncClient, owner: TestAccount
) -> None:
    webhook_id = await _webhook(web, owner, "http://127.0.0.1:9/hook")
    for _ in range(23):
        await _send_test(web, webhook_id)
    every = [d["id"] for d in await _deliveries(web, owner, webhook_id)]  # newest first
    assert len(every) == 23

    first = (await web.get(f"/webhooks/{webhook_id}")).text
    shown = [part.split('"')[0] for part in first.split('data-delivery="')[1:]]
    assert shown == every[:20]
    assert f'href="/webhooks/{webhook_id}?after={every[19]}" rel="next"' in first
    assert _in("en", "delivery.newest") not in first

    second = (await web.get(f"/webhooks/{webhook_id}?after={every[19]}")).text
    shown = [part.split('"')[0] for part in second.split('data-delivery="')[1:]]
    assert shown == every[20:]
    assert 'rel="next"' not in second
    assert f'<a href="/webhooks/{webhook_id}">{_in("en", "delivery.newest")}</a>' in second

    # The API pages the same way.
    assert [d["id"] for d in await _deliveries(web, owner, webhook_id, after=every[19])] == (
        every[20:]
    )
    missing = await web.get(
        f"/api/webhooks/{webhook_id}/deliveries", auth=owner.auth(), params={"after": "msg_no"}
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "NotFound"


def _delivery(status: str, attempts: list[AttemptOut], next_at: datetime | None) -> DeliveryOut:
    return DeliveryOut(
        id="msg_1",
        event_type="webhook.test",
        payload={"type": "webhook.test"},
        status=status,
        attempts=attempts,
        next_attempt_at=next_at,
        created_at=datetime(2026, 11, 30, 12, 0),
    )


def _attempt(
    n: int, status_code: int | None = None, failure: str | None = None, ms: int = 12
) -> AttemptOut:
    return AttemptOut(
        attempt=n,
        status_code=status_code,
        response_body="",
        error=None if status_code else "SomeError: details",
        failure=failure,
        duration_ms=ms,
        created_at=datetime(2026, 11, 30, 12, 0),
    )


@pytest.mark.parametrize("lang", ["en", "he"])
def test_every_status_and_answer_reads_in_words_in_both_languages(lang: str) -> None:
    t = i18n.translator(lang)
    now, next_at = datetime(2026, 11, 30, 13, 55), datetime(2026, 11, 30, 14, 5)
    failed = [_attempt(n, status_code=500) for n in range(1, MAX_ATTEMPTS + 1)]
    cases = {
        "succeeded": _delivery("succeeded", [_attempt(1, status_code=204)], None),
        "given up": _delivery("failed", failed, None),
        "pending": _delivery("pending", [], next_at),
        "retrying": _delivery("pending", failed[:3], next_at),
    }
    said = {
        name: t(v.status.key, **v.status.values)
        for name, d in cases.items()
        for v in [deliveries.view(d, webhook_active=True, now=now)]
    }
    on_hold = deliveries.view(cases["retrying"], webhook_active=False, now=now).status
    assert t(on_hold.key, **on_hold.values) != said["retrying"]
    assert "14:05" in said["retrying"]
    assert f"3 {'of' if lang == 'en' else 'מתוך'} 11" in said["retrying"]
    assert str(MAX_ATTEMPTS) in said["given up"]
    assert len(set(said.values())) == len(said)
    if lang == "en":
        assert said == {
            "succeeded": "Succeeded",
            "given up": "Failed — given up after 11 attempts",
            "pending": "Pending",
            "retrying": "Failed — retrying (attempt 3 of 11), next attempt at 14:05 UTC",
        }

    tomorrow = deliveries.status(cases["retrying"], webhook_active=True, now=now - ONE_DAY)[0]
    assert "2026-11-30 14:05" in t(tomorrow.key, **tomorrow.values)

    answers = [
        t(w.key, **w.values)
        for w in [
            deliveries.answer(_attempt(1, status_code=503)),
            deliveries.answer(_attempt(1, failure=Failure.TIMED_OUT, ms=10_004)),
            *(deliveries.answer(_attempt(1, failure=f)) for f in Failure if f != Failure.TIMED_OUT),
            deliveries.answer(_attempt(1)),  # a failure of no known kind
        ]
    ]
    assert len(set(answers)) == len(answers)
    assert all("SomeError" not in a for a in answers)
    if lang == "en":
        assert answers[:3] == ["HTTP 503", "Timed out after 10 s", "Connection refused"]
