"""The PrintNode-compatible API's use cases, over the same services as ours: a job
made here is the job of our API, webhooks, dashboard and agents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.accounts.service import Principal
from printcloud.server.computers import service as computers_service
from printcloud.server.db.models import PrintJob
from printcloud.server.errors import BadRequest, Conflict, NotFound
from printcloud.server.jobs import service as jobs
from printcloud.server.jobs.schemas import PrintJobIn
from printcloud.server.printnode import repository, shapes
from printcloud.server.printnode.options import our_options
from printcloud.server.printnode.repository import NumberedPrinter, Page
from printcloud.server.printnode.schemas import PrintNodeJobIn
from printcloud.server.printnode.sets import IdSet
from printcloud.server.settings import Settings

# The ``source`` of a job made elsewhere (our API, the dashboard), or here without one.
SOURCE = "PrintCloud"
# At most this many jobs deleted by one call (a set may be a wide range).
DELETE_LIMIT = 1000
_ALL = Page(limit=DELETE_LIMIT, after=None, descending=False)


async def whoami(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    account_id = principal.account_id
    await repository.number_everything(session, account_id)
    return shapes.account(
        await repository.account_number(session, account_id),
        await repository.user_of(session, account_id, principal.key_id),
        computers=await repository.count_computers(session, account_id),
        prints=await repository.count_jobs(session, account_id),
        connected=await repository.connected_computers(session, account_id),
    )


async def computers(
    session: AsyncSession, account_id: str, page: Page, ids: IdSet | None = None
) -> list[dict[str, Any]]:
    await repository.number_everything(session, account_id)
    return [shapes.computer(c) for c in await repository.computers(session, account_id, ids, page)]


async def printers(
    session: AsyncSession,
    account_id: str,
    page: Page,
    *,
    ids: IdSet | None = None,
    computer_ids: IdSet | None = None,
) -> list[dict[str, Any]]:
    await repository.number_everything(session, account_id)
    found = await repository.printers(session, account_id, page, ids=ids, computer_ids=computer_ids)
    return [shapes.printer(p) for p in found]


async def _printers_of(
    session: AsyncSession, account_id: str, found: Sequence[PrintJob]
) -> dict[str, NumberedPrinter]:
    printer_ids = sorted({j.printer_id for j in found if j.printer_id is not None})
    if not printer_ids:
        return {}
    numbered = await repository.printers(
        session,
        account_id,
        Page(limit=len(printer_ids), after=None, descending=False),
        printer_ids=printer_ids,
    )
    return {p.printer.id: p for p in numbered}


async def printjobs(
    session: AsyncSession,
    account_id: str,
    page: Page,
    *,
    ids: IdSet | None = None,
    printer_numbers: IdSet | None = None,
) -> list[dict[str, Any]]:
    await repository.number_everything(session, account_id)
    found = await repository.jobs(
        session, account_id, page, ids=ids, printer_numbers=printer_numbers
    )
    printers_by_id = await _printers_of(session, account_id, found)
    sources = await repository.sources(session, [j.seq for j in found])
    return [
        shapes.printjob(j, printers_by_id.get(j.printer_id or ""), sources.get(j.seq, SOURCE))
        for j in found
    ]


async def states(
    session: AsyncSession, account_id: str, page: Page, ids: IdSet | None = None
) -> list[list[dict[str, Any]]]:
    """Each job's state history, one list per job (PrintNode pages by job)."""
    await repository.number_everything(session, account_id)
    found = await repository.jobs(session, account_id, page, ids=ids)
    printers_by_id = await _printers_of(session, account_id, found)
    events = await repository.state_events(session, [j.seq for j in found])
    answer = []
    for job in found:
        its_printer = printers_by_id.get(job.printer_id or "")
        version = its_printer.computer.computer.client_version if its_printer else None
        answer.append([shapes.state(job, e, version or None) for e in events[job.seq]])
    return answer


async def submit(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    body: PrintNodeJobIn,
    idempotency_key: str | None,
) -> int:
    """Print through our jobs service; answers the job's number. A key already used
    within its window is refused (409), as PrintNode does, naming the earlier job."""
    if body.authentication is not None:
        raise BadRequest(
            "authentication is not supported: PrintCloud downloads a document's URI "
            "without credentials; put a token in the URI or send the document as base64"
        )
    options = our_options(body.options)
    printer_id = await repository.printer_id_of(session, account_id, body.printer_id)
    if printer_id is None:
        raise NotFound(f"Printer {body.printer_id} not found")
    ours = PrintJobIn.model_validate(
        {
            "printerId": printer_id,
            "contentType": body.content_type,
            "content": body.content,
            "title": body.title,
            "qty": body.qty,
            "options": options,
            "expireAfter": body.expire_after,
        }
    )
    job_id, new = await jobs.submit_job_once(session, settings, account_id, ours, idempotency_key)
    number = await repository.job_number(session, account_id, job_id)
    if not new or number is None:
        earlier = f"print job {number}" if number is not None else "a print job since deleted"
        raise Conflict(
            f"X-Idempotency-Key: this key was used within the last 24 hours, for {earlier};"
            " use a new key for each job"
        )
    if body.source:
        await repository.add_source(session, number, body.source)
    return number


async def delete(
    session: AsyncSession,
    account_id: str,
    *,
    ids: IdSet | None = None,
    printer_numbers: IdSet | None = None,
) -> list[int]:
    """Delete jobs through our jobs service (an agent that already has one is told);
    answers the numbers deleted, none when nothing matched."""
    found = await repository.jobs(
        session, account_id, _ALL, ids=ids, printer_numbers=printer_numbers
    )
    if not found:
        return []
    deleted = set(await jobs.delete_jobs(session, account_id, [j.id for j in found]))
    return [j.seq for j in found if j.id in deleted]


async def delete_computers(session: AsyncSession, account_id: str, ids: IdSet) -> list[int]:
    """Remove computers through our computers service (their printers go with them, their
    unfinished jobs end in ``error``, their agents are disconnected); answers the numbers
    removed, none when nothing matched."""
    found = await repository.computers(session, account_id, ids, _ALL)
    if not found:
        return []
    removed = set(
        await computers_service.delete_computers(
            session, account_id, [c.computer.id for c in found]
        )
    )
    return [c.number for c in found if c.computer.id in removed]
