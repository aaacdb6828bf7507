"""Computers and printers in the database, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Computer, Printer


async def computers(session: AsyncSession, account_id: str) -> Sequence[Computer]:
    result = await session.scalars(
        select(Computer)
        .where(Computer.account_id == account_id)
        .order_by(Computer.created_at, Computer.id)
    )
    return result.all()


async def computer_ids(session: AsyncSession, account_id: str, ids: Sequence[str]) -> list[str]:
    result = await session.scalars(
        select(Computer.id).where(Computer.account_id == account_id, Computer.id.in_(ids))
    )
    return list(result.all())


async def printers(
    session: AsyncSession,
    account_id: str,
    *,
    ids: Sequence[str] | None = None,
    computer_ids: Sequence[str] | None = None,
) -> Sequence[Printer]:
    query = select(Printer).where(Printer.account_id == account_id)
    if ids is not None:
        query = query.where(Printer.id.in_(ids))
    if computer_ids is not None:
        query = query.where(Printer.computer_id.in_(computer_ids))
    result = await session.scalars(query.order_by(Printer.created_at, Printer.id))
    return result.all()


async def printer(session: AsyncSession, account_id: str, printer_id: str) -> Printer | None:
    return await session.scalar(
        select(Printer).where(Printer.account_id == account_id, Printer.id == printer_id)
    )


async def delete_computers(session: AsyncSession, account_id: str, ids: Sequence[str]) -> None:
    await session.execute(
        delete(Printer).where(Printer.account_id == account_id, Printer.computer_id.in_(ids))
    )
    await session.execute(
        delete(Computer).where(Computer.account_id == account_id, Computer.id.in_(ids))
    )
