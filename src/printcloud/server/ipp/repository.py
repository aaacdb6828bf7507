"""The IPP printer's reads: a printer with its computer, and the jobs sent to it.
Every query is scoped to the account."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.job_states import UNFINISHED_STATES
from printcloud.server.db.models import Computer, JobStateEvent, Printer, PrintJob


@dataclass(frozen=True)
class PrinterView:
    printer: Printer
    computer: Computer
    queued: int  # jobs not finished yet


async def printer_view(
    session: AsyncSession, account_id: str, printer_id: str
) -> PrinterView | None:
    row = (
        await session.execute(
            select(Printer, Computer)
            .join(Computer, Computer.id == Printer.computer_id)
            .where(Printer.account_id == account_id, Printer.id == printer_id)
        )
    ).first()
    if row is None:
        return None
    queued = await session.scalar(
        select(func.count())
        .select_from(PrintJob)
        .where(
            PrintJob.account_id == account_id,
            PrintJob.printer_id == printer_id,
            PrintJob.state.in_([s.value for s in UNFINISHED_STATES]),
        )
    )
    return PrinterView(row[0], row[1], int(queued or 0))


async def printer_exists(session: AsyncSession, account_id: str, printer_id: str) -> bool:
    found = await session.scalar(
        select(Printer.id).where(Printer.account_id == account_id, Printer.id == printer_id)
    )
    return found is not None


async def job(session: AsyncSession, account_id: str, printer_id: str, seq: int) -> PrintJob | None:
    found: PrintJob | None = await session.scalar(
        select(PrintJob).where(
            PrintJob.account_id == account_id,
            PrintJob.printer_id == printer_id,
            PrintJob.seq == seq,
        )
    )
    return found


async def jobs(
    session: AsyncSession,
    account_id: str,
    printer_id: str,
    states: Collection[str],
    *,
    limit: int,
    newest_first: bool,
) -> Sequence[PrintJob]:
    order = PrintJob.seq.desc() if newest_first else PrintJob.seq.asc()
    result = await session.scalars(
        select(PrintJob)
        .where(
            PrintJob.account_id == account_id,
            PrintJob.printer_id == printer_id,
            PrintJob.state.in_(list(states)),
        )
        .order_by(order)
        .limit(limit)
    )
    return result.all()


async def last_messages(session: AsyncSession, seqs: Sequence[int]) -> dict[int, str]:
    """Each job's latest history message: what IPP calls its job-state-message."""
    if not seqs:
        return {}
    latest = (
        select(JobStateEvent.job_seq, func.max(JobStateEvent.seq).label("seq"))
        .where(JobStateEvent.job_seq.in_(seqs))
        .group_by(JobStateEvent.job_seq)
        .subquery()
    )
    rows = await session.execute(
        select(JobStateEvent.job_seq, JobStateEvent.message).join(
            latest, JobStateEvent.seq == latest.c.seq
        )
    )
    return {row[0]: row[1] for row in rows.all()}
