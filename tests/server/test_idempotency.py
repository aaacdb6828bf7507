from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from printcloud.server.db.models import IdempotencyKey
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job


async def post(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str, key: str | None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post(
        "/api/printjobs", auth=account.auth(), json=job(printer_id), headers=headers
    )


async def history(client: httpx.AsyncClient, account: TestAccount) -> list[str]:
    return [j["id"] for j in (await client.get("/api/printjobs", auth=account.auth())).json()]


async def test_the_same_key_answers_the_same_job_and_prints_once(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    first = await post(client, account, printer_id, "order-1234")
    again = await post(client, account, printer_id, "order-1234")
    other = await post(client, account, printer_id, "order-1235")

    assert first.status_code == again.status_code == other.status_code == 201
    assert first.json() == again.json() != other.json()
    assert sorted(await history(client, account)) == sorted([first.json(), other.json()])


async def test_keys_belong_to_their_account(
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    other_account: TestAccount,
    printer_id: str,
) -> None:
    await other_account.add_computer(runtime)
    theirs = (await client.get("/api/printers", auth=other_account.auth())).json()[0]["id"]
    mine = await post(client, account, printer_id, "shared-key")
    their = await post(client, other_account, theirs, "shared-key")
    assert mine.json() != their.json()


async def test_concurrent_retries_with_one_key_make_one_job(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    answers = await asyncio.gather(*[post(client, account, printer_id, "burst") for _ in range(5)])
    assert {a.status_code for a in answers} == {201}
    assert len({a.json() for a in answers}) == 1
    assert len(await history(client, account)) == 1


async def test_a_key_older_than_a_day_makes_a_new_job(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = (await post(client, account, printer_id, "old-key")).json()
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25))
        )
        await session.commit()
    later = (await post(client, account, printer_id, "old-key")).json()
    assert later != first
    assert (await post(client, account, printer_id, "old-key")).json() == later


async def test_a_malformed_key_is_refused(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    for key in ["", "x" * 256, "has space"]:
        response = await post(client, account, printer_id, key)
        assert response.status_code == 400
        assert response.json()["message"].startswith("Idempotency-Key:")


async def test_the_same_key_with_another_job_is_refused_not_answered_with_the_first(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    headers = {"Idempotency-Key": "invoice-77"}
    first = await client.post(
        "/api/printjobs", auth=account.auth(), json=job(printer_id), headers=headers
    )
    other = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        json=job(printer_id, title="Invoice #78"),
        headers=headers,
    )
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json() == {
        "code": "UnprocessableContent",
        "message": "Idempotency-Key: this key was used within the last 24 hours for a"
        " different job; use a new key for each job",
    }
    assert await history(client, account) == [first.json()]
    # The same job written another way (key order, spacing) is the same request.
    body = job(printer_id)
    again = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        content=json.dumps(dict(reversed(body.items())), indent=2),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.json() == first.json()


async def test_a_key_kept_from_before_fingerprints_still_answers_its_job(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = await post(client, account, printer_id, "from-0004")
    async with runtime.sessionmaker() as session:
        await session.execute(update(IdempotencyKey).values(fingerprint=None))
        await session.commit()
    again = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        json=job(printer_id, title="changed"),
        headers={"Idempotency-Key": "from-0004"},
    )
    assert again.status_code == 201
    assert again.json() == first.json()


def test_the_documented_answers_include_the_idempotency_refusal(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/api/printjobs"]["post"]["responses"]
    assert responses["422"]["description"].startswith("[ext]")
    assert "HTTPValidationError" not in str(app.openapi())
