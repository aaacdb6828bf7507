"""``POST /api/printjobs``'s fast path and its group commit: the same answers as the
route, one commit for jobs that arrive together, and nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.db.models import Event, Printer, PrintJob
from printcloud.server.errors import NotFound
from printcloud.server.jobs import repository
from printcloud.server.jobs.intake import Intake
from printcloud.server.jobs.schemas import PrintJobIn
from printcloud.server.jobs.service import check_job
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.documents import ZPL_B64
from tests.helpers.jobs import job

# A browser's Origin sends a request to the route (the fast path leaves CORS to it).
ROUTE_ONLY = {"Origin": "https://shop.example"}


@contextmanager
def counting_commits(runtime: Runtime) -> Iterator[list[None]]:
    commits: list[None] = []

    def count(_connection: Any) -> None:
        commits.append(None)

    event.listen(runtime.engine.sync_engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(runtime.engine.sync_engine, "commit", count)


async def job_count(runtime: Runtime, account: TestAccount) -> int:
    async with runtime.sessionmaker() as session:
        query = select(func.count()).where(PrintJob.account_id == account.account_id)
        return int(await session.scalar(query) or 0)


def raw(printer_id: str, **fields: Any) -> dict[str, Any]:
    return job(printer_id, **{"contentType": "raw_base64", "content": ZPL_B64, **fields})


async def test_jobs_posted_together_share_a_commit_and_each_hears_its_own_id(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    await client.get("/api/printers", auth=account.auth())  # the key is now known
    with counting_commits(runtime) as commits:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/printjobs", auth=account.auth(), json=raw(printer_id, title=f"#{n}")
                )
                for n in range(20)
            )
        )

    assert [a.status_code for a in answers] == [201] * 20
    job_ids = [a.json() for a in answers]
    assert len(set(job_ids)) == 20
    assert len(commits) < 20  # batched: only the fast path's intake does that
    stored = (await client.get(f"/api/printjobs/{','.join(job_ids)}", auth=account.auth())).json()
    assert {j["id"]: j["title"] for j in stored} == {i: f"#{n}" for n, i in enumerate(job_ids)}
    async with runtime.sessionmaker() as session:
        created = await session.scalars(
            select(Event.payload).where(
                Event.account_id == account.account_id, Event.type == "job.created"
            )
        )
        assert sorted(p["jobId"] for p in created) == sorted(job_ids)


def _cases(printer_id: str) -> list[tuple[str, Any, dict[str, str]]]:
    """(name, body or raw bytes, headers) of requests each path must answer alike."""
    json_headers = {"Content-Type": "application/json"}
    return [
        ("valid", raw(printer_id), {}),
        ("malformed JSON", b'{"printerId": ', json_headers),
        ("a JSON array", b"[1, 2]", json_headers),
        ("empty body", b"", json_headers),
        ("no printer", {"contentType": "raw_base64", "content": ZPL_B64}, {}),
        ("unknown option", raw(printer_id, options={"staple": True}), {}),
        ("bad base64", raw(printer_id, content="not base64!"), {}),
        (
            "private URL",
            job(printer_id, contentType="pdf_uri", content="http://10.0.0.1/a.pdf"),
            {},
        ),
        ("unknown printer", raw("prn_doesnotexist"), {}),
        ("not JSON", b"printerId=1", {"Content-Type": "application/x-www-form-urlencoded"}),
    ]


@pytest.mark.parametrize("permission", list(Permission))
async def test_the_fast_path_answers_as_the_route_does(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str, permission: Permission
) -> None:
    auth = account.auth(permission)
    await client.get("/api/printers", auth=auth)  # the key is now known
    for name, body, headers in _cases(printer_id):
        sent: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        fast = await client.post("/api/printjobs", auth=auth, headers=headers, **sent)
        route = await client.post(
            "/api/printjobs", auth=auth, headers={**headers, **ROUTE_ONLY}, **sent
        )
        assert fast.status_code == route.status_code, name
        assert fast.headers["content-type"] == route.headers["content-type"], name
        if fast.status_code == 201:
            assert fast.json().startswith("pj_")
            assert route.json().startswith("pj_")
        else:
            assert fast.json() == route.json(), name
            assert fast.json()["code"] in {"BadRequest", "Forbidden", "NotFound"}, name


async def test_a_refused_key_and_a_bad_header_are_answered_by_the_route(
    client: httpx.AsyncClient, printer_id: str
) -> None:
    unknown = await client.post("/api/printjobs", auth=("pk_live_nope", ""), json=raw(printer_id))
    assert (unknown.status_code, unknown.json()["message"]) == (401, "Invalid API key")
    anonymous = await client.post("/api/printjobs", json=raw(printer_id))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="PrintCloud"'


async def test_the_fast_path_counts_the_rate_limit_once_per_request(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(rate_limit="3/minute")
    account = await make_account(runtime)
    await account.add_computer(runtime)
    async with runtime.sessionmaker() as session:
        printer_id = await session.scalar(
            select(Printer.id).where(Printer.account_id == account.account_id)
        )
    assert printer_id is not None
    async with client_for(create_app(runtime=runtime)) as client:
        await client.get("/api/printers", auth=account.auth())  # counts 1 of 3
        answers = [
            await client.post("/api/printjobs", auth=account.auth(), json=raw(printer_id))
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    refused = answers[2]
    assert refused.json() == {
        "code": "TooManyRequests",
        "message": "Rate limit exceeded: 3 requests per 60 s per account",
    }
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert await job_count(runtime, account) == 2


async def test_a_revoked_key_is_refused_at_once_although_it_was_known(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    created = (
        await client.post(
            "/api/account/apikeys",
            auth=account.auth(),
            json={"description": "shop", "permission": "print_only"},
        )
    ).json()
    shop = (created["key"], "")
    assert (await client.post("/api/printjobs", auth=shop, json=raw(printer_id))).status_code == 201
    await client.delete(f"/api/account/apikeys/{created['id']}", auth=account.auth())

    refused = await client.post("/api/printjobs", auth=shop, json=raw(printer_id))
    assert (refused.status_code, refused.json()["message"]) == (
        401,
        "This API key has been revoked",
    )


async def test_a_large_document_goes_through_the_route_and_is_accepted(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    await client.get("/api/printers", auth=account.auth())
    document = base64.b64encode(b"^XA^FDlabel^FS^XZ" * 20_000).decode()  # ~450 KiB of base64
    answer = await client.post(
        "/api/printjobs", auth=account.auth(), json=raw(printer_id, content=document)
    )
    assert answer.status_code == 201
    stored = await client.get(f"/api/printjobs/{answer.json()}", auth=account.auth())
    assert stored.json()[0]["contentType"] == "raw_base64"


# The intake itself, called directly.


async def _checked(runtime: Runtime, printer_id: str, **fields: Any) -> Any:
    return await check_job(runtime.settings, PrintJobIn.model_validate(raw(printer_id, **fields)))


async def test_an_unknown_printer_fails_its_own_job_only(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    intake = Intake(runtime.sessionmaker)
    good = await _checked(runtime, printer_id)
    stray = await _checked(runtime, "prn_elsewhere")
    answers = await asyncio.gather(
        intake.submit(account.account_id, good),
        intake.submit(account.account_id, stray),
        intake.submit(account.account_id, good),
        return_exceptions=True,
    )
    assert isinstance(answers[1], NotFound)
    assert str(answers[1]) == "Printer prn_elsewhere not found"
    assert all(isinstance(a, str) and a.startswith("pj_") for a in (answers[0], answers[2]))
    assert await job_count(runtime, account) == 2


async def test_a_failed_batch_is_written_again_job_by_job(
    runtime: Runtime, account: TestAccount, printer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_many = repository.add_many

    async def refuse_poison(session: Any, rows: Any, contents: Any, message: str) -> list[int]:
        if any(row["title"] == "poison" for row in rows):
            raise IntegrityError("INSERT", {}, Exception("refused"))
        return await add_many(session, rows, contents, message)

    monkeypatch.setattr(repository, "add_many", refuse_poison)
    intake = Intake(runtime.sessionmaker)
    titles = ["a", "poison", "b", "c"]
    checked = [await _checked(runtime, printer_id, title=t) for t in titles]
    answers = await asyncio.gather(
        *(intake.submit(account.account_id, c) for c in checked), return_exceptions=True
    )
    assert isinstance(answers[1], IntegrityError)
    assert [isinstance(a, str) for a in answers] == [True, False, True, True]
    async with runtime.sessionmaker() as session:
        stored = await session.scalars(
            select(PrintJob.title).where(PrintJob.account_id == account.account_id)
        )
        assert sorted(stored) == ["a", "b", "c"]


async def test_a_job_whose_request_went_away_is_still_committed(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    intake = Intake(runtime.sessionmaker)
    checked = await _checked(runtime, printer_id)
    leaving = asyncio.create_task(intake.submit(account.account_id, checked))
    staying = asyncio.create_task(intake.submit(account.account_id, checked))
    await asyncio.sleep(0)  # both are queued, and the writer has started
    leaving.cancel()
    assert (await staying).startswith("pj_")
    assert await job_count(runtime, account) == 2
