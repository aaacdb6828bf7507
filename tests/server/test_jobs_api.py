from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from printcloud.server.app import create_app
from printcloud.server.db.models import Event, PrintJobContent
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.asgi_client import client_for
from tests.helpers.documents import PDF, PDF_B64, ZPL_B64
from tests.helpers.jobs import job


async def post(client: httpx.AsyncClient, account: TestAccount, body: Any) -> httpx.Response:
    return await client.post("/api/printjobs", auth=account.auth(), json=body)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("pdf_uri", "https://example.com/invoice.pdf"),
        ("pdf_base64", PDF_B64),
        ("raw_uri", "http://example.com/label.zpl"),
        ("raw_base64", ZPL_B64),
    ],
)
async def test_create_job_answers_its_id_as_a_bare_string(
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    printer_id: str,
    content_type: str,
    content: str,
) -> None:
    response = await post(
        client,
        account,
        {
            "printerId": printer_id,
            "contentType": content_type,
            "content": content,
            "title": "Invoice #456",
            "options": {"copies": 2, "duplex": "long-edge", "color": False},
        },
    )

    assert response.status_code == 201
    job_id = response.json()
    assert isinstance(job_id, str)
    assert job_id.startswith("pj_")
    [stored] = (await client.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    assert stored["state"] == "pending"
    assert stored["contentType"] == content_type
    assert stored["title"] == "Invoice #456"
    assert stored["options"] == {"copies": 2, "duplex": "long-edge", "color": False}
    assert stored["printer"]["name"] == "HP LaserJet Pro"
    async with runtime.sessionmaker() as session:
        saved = await session.scalar(select(PrintJobContent.content))
        event = await session.scalar(select(Event))
    assert saved == content
    assert event is not None
    assert event.type == "job.created"
    assert event.payload["jobId"] == job_id


async def test_job_defaults(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    job_id = (await post(client, account, job(printer_id))).json()
    [stored] = (await client.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    assert stored["title"] == "Untitled"
    assert stored["qty"] == 1
    assert stored["options"] == {}
    assert stored["expiresAt"] is None


async def test_expire_after_sets_the_deadline(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    job_id = (await post(client, account, job(printer_id, expireAfter=60))).json()
    [stored] = (await client.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    assert stored["expiresAt"] > stored["createdAt"]


async def test_all_options_are_accepted_and_kept(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    options = {
        "copies": 999,
        "color": True,
        "duplex": "short-edge",
        "paper": "Letter",
        "media": "Tray 1",
        "pages": "1-5,8",
        "fit_to_page": True,
    }
    job_id = (await post(client, account, job(printer_id, qty=3, options=options))).json()
    [stored] = (await client.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
    assert stored["options"] == options
    assert stored["qty"] == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": {"copies": 0}}, "options.copies"),
        ({"options": {"copies": 1000}}, "options.copies"),
        ({"options": {"copies": "many"}}, "options.copies"),
        ({"options": {"duplex": "both-sides"}}, "options.duplex"),
        ({"options": {"pages": "5-1"}}, "options.pages"),
        ({"options": {"pages": "0"}}, "options.pages"),
        ({"options": {"pages": "1-"}}, "options.pages"),
        ({"options": {"pages": "a,b"}}, "options.pages"),
        ({"options": {"paper": ""}}, "options.paper"),
        ({"options": {"colour": True}}, "options.colour"),
        ({"options": {"color": "sometimes"}}, "options.color"),
        ({"qty": 0}, "qty"),
        ({"expireAfter": 0}, "expireAfter"),
        ({"contentType": "docx_base64"}, "contentType"),
        ({"content": ""}, "content"),
        ({"content": "not base64 at all!"}, "content"),
        ({"content": base64.b64encode(b"hello, not a pdf").decode()}, "content"),
        ({"contentType": "pdf_uri", "content": "ftp://example.com/a.pdf"}, "content"),
        ({"contentType": "raw_uri", "content": "example.com/a.zpl"}, "content"),
        ({"contentType": "pdf_uri", "content": "http://127.0.0.1/a.pdf"}, "content"),
        ({"contentType": "pdf_uri", "content": "http://localhost:8080/a.pdf"}, "content"),
        ({"contentType": "pdf_uri", "content": "http://[::ffff:10.0.0.1]/a.pdf"}, "content"),
        ({"contentType": "pdf_uri", "content": "http://169.254.169.254/latest"}, "content"),
        ({"contentType": "pdf_uri", "content": "http://127.0.0.1:9\\@example.com/x"}, "content"),
        ({"contentType": "raw_base64", "content": "===="}, "content"),
    ],
)
async def test_invalid_job_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    account: TestAccount,
    printer_id: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await post(client, account, job(printer_id) | body)

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "BadRequest"
    assert error["message"].startswith(f"{field}:"), error["message"]


@pytest.mark.parametrize("missing", ["printerId", "contentType", "content"])
async def test_required_fields(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str, missing: str
) -> None:
    body = job(printer_id)
    del body[missing]
    response = await post(client, account, body)
    assert response.status_code == 400
    assert response.json()["message"] == f"{missing}: is required"


async def test_private_content_urls_are_allowed_when_configured(
    runtime_factory: Any, account: TestAccount, printer_id: str
) -> None:
    app = create_app(runtime=runtime_factory(allow_private_urls=True))
    async with client_for(app) as client:
        response = await post(
            client,
            account,
            job(printer_id, contentType="pdf_uri", content="http://127.0.0.1:9000/a.pdf"),
        )
    assert response.status_code == 201


async def test_base64_with_line_breaks_is_accepted(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    wrapped = "\n".join(PDF_B64[i : i + 20] for i in range(0, len(PDF_B64), 20))
    response = await post(client, account, job(printer_id, content=wrapped))
    assert response.status_code == 201


async def test_job_for_unknown_printer_is_not_found(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await post(client, account, job("prn_missing"))
    assert response.status_code == 404
    assert response.json() == {"code": "NotFound", "message": "Printer prn_missing not found"}


async def test_document_over_the_limit_is_refused(
    runtime_factory: Any, account: TestAccount, printer_id: str
) -> None:
    app = create_app(runtime=runtime_factory(max_document_size=100))
    big = base64.b64encode(PDF + b"x" * 200).decode()
    async with client_for(app) as client:
        response = await post(client, account, job(printer_id, content=big))
    assert response.status_code == 413
    assert response.json()["code"] == "PayloadTooLarge"


async def _create_jobs(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str, count: int
) -> list[str]:
    return [
        (await post(client, account, job(printer_id, title=f"Job {i}"))).json()
        for i in range(count)
    ]


async def test_history_is_newest_first_with_limit(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    ids = await _create_jobs(client, account, printer_id, 5)

    response = await client.get("/api/printjobs", params={"limit": 3}, auth=account.auth())

    assert response.status_code == 200
    page = response.json()
    assert [j["id"] for j in page] == ids[::-1][:3]
    first = page[0]
    assert set(first) >= {"id", "title", "state", "contentType", "printer", "createdAt"}
    assert first["printer"]["name"] == "HP LaserJet Pro"
    assert first["createdAt"].endswith("Z")


async def test_history_ascending_and_cursor(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    ids = await _create_jobs(client, account, printer_id, 5)
    auth = account.auth()

    ascending = (await client.get("/api/printjobs?dir=asc&limit=2", auth=auth)).json()
    assert [j["id"] for j in ascending] == ids[:2]
    following = (
        await client.get(f"/api/printjobs?dir=asc&limit=2&after={ids[1]}", auth=auth)
    ).json()
    assert [j["id"] for j in following] == ids[2:4]
    older = (await client.get(f"/api/printjobs?after={ids[2]}", auth=auth)).json()
    assert [j["id"] for j in older] == [ids[1], ids[0]]
    default = (await client.get("/api/printjobs", auth=auth)).json()
    assert [j["id"] for j in default] == ids[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("dir=up", "dir"),
        ("after=pj_unknown", "after"),
    ],
)
async def test_history_rejects_bad_parameters(
    client: httpx.AsyncClient, account: TestAccount, query: str, field: str
) -> None:
    response = await client.get(f"/api/printjobs?{query}", auth=account.auth())
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}:")


async def test_get_jobs_by_ids(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    ids = await _create_jobs(client, account, printer_id, 3)
    response = await client.get(f"/api/printjobs/{ids[0]},{ids[2]}", auth=account.auth())
    assert response.status_code == 200
    assert [j["id"] for j in response.json()] == [ids[0], ids[2]]
    missing = await client.get("/api/printjobs/pj_missing", auth=account.auth())
    assert missing.status_code == 404


async def test_job_states_history(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    job_id = (await post(client, account, job(printer_id))).json()
    response = await client.get(f"/api/printjobs/{job_id}/states", auth=account.auth())
    assert response.status_code == 200
    [created] = response.json()
    assert created["state"] == "pending"
    assert created["message"] == "Job created"
    assert created["createdAt"].endswith("Z")
    missing = await client.get("/api/printjobs/pj_missing/states", auth=account.auth())
    assert missing.status_code == 404


async def test_delete_jobs_answers_the_deleted_ids(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    ids = await _create_jobs(client, account, printer_id, 3)

    response = await client.delete(
        f"/api/printjobs/{ids[0]},{ids[1]},pj_unknown", auth=account.auth()
    )

    assert response.status_code == 200
    assert response.json() == [ids[0], ids[1]]
    left = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert [j["id"] for j in left] == [ids[2]]
    again = await client.delete(f"/api/printjobs/{ids[0]}", auth=account.auth())
    assert again.status_code == 404


async def test_a_large_document_is_checked_and_kept_whole(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    big = base64.b64encode(PDF + b"%" + b"x" * 2_000_000).decode()  # checked off the loop
    job_id = (await post(client, account, job(printer_id, content=big))).json()
    async with runtime.sessionmaker() as session:
        saved = await session.scalar(select(PrintJobContent.content))
    assert saved == big
    broken = base64.b64encode(b"not a pdf" + b"x" * 2_000_000).decode()
    response = await post(client, account, job(printer_id, content=broken))
    assert response.status_code == 400
    assert response.json()["message"].startswith("content:")
    assert job_id.startswith("pj_")
