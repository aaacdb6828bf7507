"""[ext] Printers' share tokens in the database, always scoped by account (or, for the
token's own look-up, by its hash and the account of the row it finds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Printer, PrinterShareToken


async def add(session: AsyncSession, row: PrinterShareToken) -> None:
    session.add(row)
    await session.flush()


async def live_token(
    session: AsyncSession, account_id: str, printer_id: str
) -> PrinterShareToken | None:
    return await session.scalar(
        select(PrinterShareToken).where(
            PrinterShareToken.account_id == account_id,
            PrinterShareToken.printer_id == printer_id,
            PrinterShareToken.revoked_at.is_(None),
        )
    )


async def revoke_live(
    session: AsyncSession, account_id: str, printer_id: str, now: datetime
) -> int:
    result = await session.execute(
        update(PrinterShareToken)
        .where(
            PrinterShareToken.account_id == account_id,
            PrinterShareToken.printer_id == printer_id,
            PrinterShareToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def printer_by_token_hash(session: AsyncSession, token_hash: str) -> Printer | None:
    # The printer must be in the token's own account: a row pointing elsewhere never
    # resolves, whatever wrote it.
    return await session.scalar(
        select(Printer)
        .join(
            PrinterShareToken,
            and_(
                PrinterShareToken.printer_id == Printer.id,
                PrinterShareToken.account_id == Printer.account_id,
            ),
        )
        .where(PrinterShareToken.token_hash == token_hash, PrinterShareToken.revoked_at.is_(None))
    )
