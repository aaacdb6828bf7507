"""Computers and their printers, as the REST API shows them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server import effects
from printcloud.server.computers import repository
from printcloud.server.computers.schemas import ComputerOut, PrinterOut
from printcloud.server.db.models import Printer
from printcloud.server.errors import NotFound
from printcloud.server.jobs import service as jobs

log = structlog.get_logger(__name__)


async def list_computers(session: AsyncSession, account_id: str) -> list[ComputerOut]:
    computers = await repository.computers(session, account_id)
    by_computer: dict[str, list[Printer]] = defaultdict(list)
    for printer in await repository.printers(session, account_id):
        by_computer[printer.computer_id].append(printer)
    return [ComputerOut.of(c, by_computer[c.id]) for c in computers]


async def printers_of_computer(
    session: AsyncSession, account_id: str, computer_id: str
) -> list[PrinterOut]:
    if not await repository.computer_ids(session, account_id, [computer_id]):
        raise NotFound(f"Computer {computer_id} not found")
    return [
        PrinterOut.model_validate(p)
        for p in await repository.printers(session, account_id, computer_ids=[computer_id])
    ]


async def list_printers(
    session: AsyncSession, account_id: str, ids: Sequence[str] | None = None
) -> list[PrinterOut]:
    printers = await repository.printers(session, account_id, ids=ids)
    if ids is not None and not printers:
        raise NotFound(f"No printer found with the id {', '.join(ids)}")
    return [PrinterOut.model_validate(p) for p in printers]


async def delete_computers(session: AsyncSession, account_id: str, ids: Sequence[str]) -> list[str]:
    """Remove computers with their printers; their unfinished jobs end in ``error``, and
    their connections are closed once that is committed."""
    found = set(await repository.computer_ids(session, account_id, ids))
    if not found:
        raise NotFound(f"No computer found with the id {', '.join(ids)}")
    deleted = [i for i in ids if i in found]
    await jobs.fail_unfinished_jobs_of_computers(
        session, account_id, deleted, "The computer was removed from the account"
    )
    await repository.delete_computers(session, account_id, deleted)
    for computer_id in deleted:
        effects.computer_removed(session, computer_id)
    log.info("computers_deleted", account_id=account_id, computer_ids=deleted)
    return deleted


async def count_by_state(session: AsyncSession) -> tuple[dict[str, int], dict[str, int]]:
    """Computers, and printers, by state on the whole server (every state named, with
    its zero): what every instance of a cluster reads alike, for the operator."""
    computers, printers = await repository.count_by_state(session)
    return (
        {state.value: computers.get(state.value, 0) for state in ComputerState},
        {state.value: printers.get(state.value, 0) for state in PrinterState},
    )
