"""Print jobs, their documents and their state history, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.job_states import FINAL_STATES
from printcloud.server.db.models import JobStateEvent, PrintJob, PrintJobContent


async def add(session: AsyncSession, job: PrintJob, content: str, message: str) -> None:
    session.add(job)
    await session.flush()  # assigns job.seq
    session.add(PrintJobContent(job_seq=job.seq, content=content))
    session.add(
        JobStateEvent(job_seq=job.seq, state=job.state, message=message, created_at=job.created_at)
    )


async def add_state_event(session: AsyncSession, job: PrintJob, message: str) -> None:
    session.add(
        JobStateEvent(job_seq=job.seq, state=job.state, message=message, created_at=job.updated_at)
    )


async def seq_of(session: AsyncSession, account_id: str, job_id: str) -> int | None:
    return await session.scalar(
        select(PrintJob.seq).where(PrintJob.account_id == account_id, PrintJob.id == job_id)
    )


async def history(
    session: AsyncSession, account_id: str, *, limit: int, descending: bool, after_seq: int | None
) -> Sequence[PrintJob]:
    query = select(PrintJob).where(PrintJob.account_id == account_id)
    if after_seq is not None:
        query = query.where(PrintJob.seq < after_seq if descending else PrintJob.seq > after_seq)
    order = PrintJob.seq.desc() if descending else PrintJob.seq.asc()
    result = await session.scalars(query.order_by(order).limit(limit))
    return result.all()


async def by_ids(session: AsyncSession, account_id: str, ids: Sequence[str]) -> Sequence[PrintJob]:
    result = await session.scalars(
        select(PrintJob)
        .where(PrintJob.account_id == account_id, PrintJob.id.in_(ids))
        .order_by(PrintJob.seq)
    )
    return result.all()


async def state_events(session: AsyncSession, job_seq: int) -> Sequence[JobStateEvent]:
    result = await session.scalars(
        select(JobStateEvent).where(JobStateEvent.job_seq == job_seq).order_by(JobStateEvent.seq)
    )
    return result.all()


async def unfinished_of_computers(
    session: AsyncSession, account_id: str, computer_ids: Sequence[str]
) -> Sequence[PrintJob]:
    result = await session.scalars(
        select(PrintJob)
        .where(
            PrintJob.account_id == account_id,
            PrintJob.computer_id.in_(computer_ids),
            PrintJob.state.not_in([s.value for s in FINAL_STATES]),
        )
        .order_by(PrintJob.seq)
    )
    return result.all()


async def delete_jobs(session: AsyncSession, account_id: str, seqs: Sequence[int]) -> None:
    # Its document and state history go with it: ON DELETE CASCADE.
    await session.execute(
        delete(PrintJob).where(PrintJob.account_id == account_id, PrintJob.seq.in_(seqs))
    )
