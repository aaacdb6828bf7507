"""Print jobs through the REST API: a request's body, submitting it, and its outcome."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.accounts import TestAccount
from tests.helpers.documents import PDF_B64
from tests.helpers.waiting import eventually

FINAL_STATES = ("completed", "error", "expired")


def job(printer_id: str, **fields: Any) -> dict[str, Any]:
    """The body of ``POST /api/printjobs``: a small PDF, base64, unless ``fields`` say else."""
    return {"printerId": printer_id, "contentType": "pdf_base64", "content": PDF_B64, **fields}


async def submit(http: httpx.AsyncClient, account: TestAccount, printer: str, **fields: Any) -> str:
    """A new job's id: an invoice PDF, unless ``fields`` say else."""
    body = job(printer, **{"title": "Invoice #456", **fields})
    response = await http.post("/api/printjobs", auth=account.auth(), json=body)
    assert response.status_code == 201, response.text
    return str(response.json())


async def printer_id(http: httpx.AsyncClient, account: TestAccount, name: str) -> str:
    """The id of the account's printer called ``name``, once an agent has reported it."""

    async def find() -> str | None:
        printers = (await http.get("/api/printers", auth=account.auth())).json()
        return next((p["id"] for p in printers if p["name"] == name), None)

    return str(await eventually(find))


async def final_state(http: httpx.AsyncClient, account: TestAccount, job_id: str) -> dict[str, Any]:
    """The job once it is over (completed, error or expired), with its ``history`` of
    (state, message)."""

    async def done() -> dict[str, Any] | None:
        [found] = (await http.get(f"/api/printjobs/{job_id}", auth=account.auth())).json()
        return found if found["state"] in FINAL_STATES else None

    found: dict[str, Any] = await eventually(done)
    history = (await http.get(f"/api/printjobs/{job_id}/states", auth=account.auth())).json()
    found["history"] = [(h["state"], h["message"]) for h in history]
    return found
