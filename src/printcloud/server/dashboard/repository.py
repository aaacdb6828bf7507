"""The dashboard's own queries: sessions, and read-only views of jobs and events.

Every query of customer data takes the session's ``account_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Event, PrintJob, PrintJobContent, User, WebSession


async def add_session(session: AsyncSession, row: WebSession) -> None:
    session.add(row)
    await session.flush()


async def web_session(
    session: AsyncSession, session_id: str, now: datetime
) -> tuple[WebSession, str] | None:
    """The session, and its user's role as it is now (a change applies at once)."""
    row = (
        await session.execute(
            select(WebSession, User.role)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id == session_id, WebSession.expires_at > now)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def touch_session(
    session: AsyncSession, session_id: str, now: datetime, expires_at: datetime
) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
    )


async def delete_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id == session_id))


async def delete_other_sessions(session: AsyncSession, user_id: str, keep: str) -> None:
    await session.execute(
        delete(WebSession).where(WebSession.user_id == user_id, WebSession.id != keep)
    )


async def last_event_seq(session: AsyncSession, account_id: str) -> int:
    seq = await session.scalar(select(func.max(Event.seq)).where(Event.account_id == account_id))
    return int(seq or 0)


async def events_after(
    session: AsyncSession, account_id: str, after_seq: int, limit: int
) -> Sequence[Event]:
    result = await session.scalars(
        select(Event)
        .where(Event.account_id == account_id, Event.seq > after_seq)
        .order_by(Event.seq)
        .limit(limit)
    )
    return result.all()


async def job_counts_since(
    session: AsyncSession, account_id: str, since: datetime
) -> dict[str, int]:
    rows = await session.execute(
        select(PrintJob.state, func.count())
        .where(PrintJob.account_id == account_id, PrintJob.created_at >= since)
        .group_by(PrintJob.state)
    )
    return {state: int(count) for state, count in rows.all()}


async def jobs_page(
    session: AsyncSession,
    account_id: str,
    *,
    state: str | None,
    printer_id: str | None,
    before_seq: int | None,
    limit: int,
) -> Sequence[PrintJob]:
    """Newest first, ``limit`` jobs older than ``before_seq``, optionally filtered."""
    query = select(PrintJob).where(PrintJob.account_id == account_id)
    if state:
        query = query.where(PrintJob.state == state)
    if printer_id:
        query = query.where(PrintJob.printer_id == printer_id)
    if before_seq is not None:
        query = query.where(PrintJob.seq < before_seq)
    result = await session.scalars(query.order_by(PrintJob.seq.desc()).limit(limit))
    return result.all()


async def job(session: AsyncSession, account_id: str, job_id: str) -> PrintJob | None:
    return await session.scalar(
        select(PrintJob).where(PrintJob.account_id == account_id, PrintJob.id == job_id)
    )


async def job_content(session: AsyncSession, account_id: str, job_id: str) -> str | None:
    return await session.scalar(
        select(PrintJobContent.content)
        .join(PrintJob, PrintJob.seq == PrintJobContent.job_seq)
        .where(PrintJob.account_id == account_id, PrintJob.id == job_id)
    )
