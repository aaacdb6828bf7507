"""The PrintNode API's queries: its integer aliases, and our rows found by them.

Every query is scoped by the account through the object's own row (an alias row has no
account of its own): a number of another account's printer finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.presence import ComputerState
from printcloud.server.db.models import (
    Account,
    ApiKey,
    Computer,
    JobStateEvent,
    Printer,
    PrintJob,
    PrintNodeAccountId,
    PrintNodeComputerId,
    PrintNodeJobSource,
    PrintNodePrinterId,
    User,
)
from printcloud.server.printnode.sets import IdSet

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class Page:
    """PrintNode's ``limit``, ``after`` and ``dir``, on an object's number."""

    limit: int
    after: int | None
    descending: bool

    def apply(self, query: Select[*_Columns], number: Any) -> Select[*_Columns]:
        if self.after is not None:
            query = query.where(number < self.after if self.descending else number > self.after)
        order = number.desc() if self.descending else number.asc()
        return query.order_by(order).limit(self.limit)


@dataclass(frozen=True)
class NumberedComputer:
    number: int
    computer: Computer


@dataclass(frozen=True)
class NumberedPrinter:
    number: int
    printer: Printer
    computer: NumberedComputer


def _in(column: Any, ids: IdSet) -> ColumnElement[bool]:
    return or_(*(column.between(first, last) for first, last in ids.ranges))


async def number_everything(session: AsyncSession, account_id: str) -> None:
    """Give the account, its computers and its printers a number, those that have none
    yet, in the order they were made. Two requests doing it at once: one wins, the
    other reads the winner's numbers."""
    if not await _anything_unnumbered(session, account_id):
        return  # the usual case: a read, without taking SQLite's write lock
    for attempt in range(3):
        try:
            await _number_missing(session, account_id)
            await session.flush()
        except IntegrityError:
            if attempt == 2:
                raise
            # Nothing else was written yet in this request: only the numbering is undone.
            await session.rollback()
        else:
            return


async def _anything_unnumbered(session: AsyncSession, account_id: str) -> bool:
    unnumbered = or_(
        exists().where(
            Account.id == account_id,
            ~exists().where(PrintNodeAccountId.account_id == Account.id),
        ),
        exists().where(
            Computer.account_id == account_id,
            ~exists().where(PrintNodeComputerId.computer_id == Computer.id),
        ),
        exists().where(
            Printer.account_id == account_id,
            ~exists().where(PrintNodePrinterId.printer_id == Printer.id),
        ),
    )
    return bool(await session.scalar(select(unnumbered)))


async def _number_missing(session: AsyncSession, account_id: str) -> None:
    account = PrintNodeAccountId
    await session.execute(
        insert(account).from_select(
            ["account_id"],
            select(Account.id).where(
                Account.id == account_id, ~exists().where(account.account_id == Account.id)
            ),
        )
    )
    computer = PrintNodeComputerId
    await session.execute(
        insert(computer).from_select(
            ["computer_id"],
            select(Computer.id)
            .where(
                Computer.account_id == account_id,
                ~exists().where(computer.computer_id == Computer.id),
            )
            .order_by(Computer.created_at, Computer.id),
        )
    )
    printer = PrintNodePrinterId
    await session.execute(
        insert(printer).from_select(
            ["printer_id"],
            select(Printer.id)
            .where(
                Printer.account_id == account_id,
                ~exists().where(printer.printer_id == Printer.id),
            )
            .order_by(Printer.created_at, Printer.id),
        )
    )


async def account_number(session: AsyncSession, account_id: str) -> int:
    number = await session.scalar(
        select(PrintNodeAccountId.seq).where(PrintNodeAccountId.account_id == account_id)
    )
    assert number is not None, "number_everything() first"
    return number


async def computers(
    session: AsyncSession, account_id: str, ids: IdSet | None, page: Page
) -> list[NumberedComputer]:
    number = PrintNodeComputerId.seq
    query = (
        select(number, Computer)
        .join(PrintNodeComputerId, PrintNodeComputerId.computer_id == Computer.id)
        .where(Computer.account_id == account_id)
    )
    if ids is not None:
        query = query.where(_in(number, ids))
    rows = await session.execute(page.apply(query, number))
    return [NumberedComputer(n, c) for n, c in rows]


async def printers(
    session: AsyncSession,
    account_id: str,
    page: Page,
    *,
    ids: IdSet | None = None,
    computer_ids: IdSet | None = None,
    printer_ids: Sequence[str] | None = None,
) -> list[NumberedPrinter]:
    number = PrintNodePrinterId.seq
    query = (
        select(number, Printer, PrintNodeComputerId.seq, Computer)
        .join(PrintNodePrinterId, PrintNodePrinterId.printer_id == Printer.id)
        .join(Computer, Computer.id == Printer.computer_id)
        .join(PrintNodeComputerId, PrintNodeComputerId.computer_id == Computer.id)
        .where(Printer.account_id == account_id)
    )
    if ids is not None:
        query = query.where(_in(number, ids))
    if computer_ids is not None:
        query = query.where(_in(PrintNodeComputerId.seq, computer_ids))
    if printer_ids is not None:
        query = query.where(Printer.id.in_(printer_ids))
    rows = await session.execute(page.apply(query, number))
    return [NumberedPrinter(n, p, NumberedComputer(cn, c)) for n, p, cn, c in rows]


async def printer_id_of(session: AsyncSession, account_id: str, number: int) -> str | None:
    """Our id of the account's printer numbered ``number``."""
    return await session.scalar(
        select(Printer.id)
        .join(PrintNodePrinterId, PrintNodePrinterId.printer_id == Printer.id)
        .where(Printer.account_id == account_id, PrintNodePrinterId.seq == number)
    )


async def jobs(
    session: AsyncSession,
    account_id: str,
    page: Page,
    *,
    ids: IdSet | None = None,
    printer_numbers: IdSet | None = None,
) -> Sequence[PrintJob]:
    query = select(PrintJob).where(PrintJob.account_id == account_id)
    if ids is not None:
        query = query.where(_in(PrintJob.seq, ids))
    if printer_numbers is not None:
        query = query.join(
            PrintNodePrinterId, PrintNodePrinterId.printer_id == PrintJob.printer_id
        ).where(_in(PrintNodePrinterId.seq, printer_numbers))
    return (await session.scalars(page.apply(query, PrintJob.seq))).all()


async def state_events(
    session: AsyncSession, job_seqs: Sequence[int]
) -> dict[int, list[JobStateEvent]]:
    found: dict[int, list[JobStateEvent]] = defaultdict(list)
    rows = await session.scalars(
        select(JobStateEvent)
        .where(JobStateEvent.job_seq.in_(job_seqs))
        .order_by(JobStateEvent.job_seq, JobStateEvent.seq)
    )
    for event in rows:
        found[event.job_seq].append(event)
    return found


async def user_of(session: AsyncSession, account_id: str, key_id: str) -> User | None:
    """The user who made the key, else the account's first user."""
    by_key = await session.scalar(
        select(User)
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(ApiKey.id == key_id, User.account_id == account_id)
    )
    if by_key is not None:
        return by_key
    return await session.scalar(
        select(User).where(User.account_id == account_id).order_by(User.created_at).limit(1)
    )


async def connected_computers(session: AsyncSession, account_id: str) -> list[int]:
    rows = await session.scalars(
        select(PrintNodeComputerId.seq)
        .join(Computer, Computer.id == PrintNodeComputerId.computer_id)
        .where(Computer.account_id == account_id, Computer.state == ComputerState.ONLINE)
        .order_by(PrintNodeComputerId.seq)
    )
    return list(rows)


async def count_computers(session: AsyncSession, account_id: str) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(Computer).where(Computer.account_id == account_id)
        )
        or 0
    )


async def count_jobs(session: AsyncSession, account_id: str) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(PrintJob).where(PrintJob.account_id == account_id)
        )
        or 0
    )


async def job_number(session: AsyncSession, account_id: str, job_id: str) -> int | None:
    """The job's number (its ``seq``); None once it was deleted."""
    return await session.scalar(
        select(PrintJob.seq).where(PrintJob.account_id == account_id, PrintJob.id == job_id)
    )


async def add_source(session: AsyncSession, job_seq: int, source: str) -> None:
    session.add(PrintNodeJobSource(job_seq=job_seq, source=source))
    await session.flush()


async def sources(session: AsyncSession, job_seqs: Sequence[int]) -> dict[int, str]:
    rows = await session.execute(
        select(PrintNodeJobSource.job_seq, PrintNodeJobSource.source).where(
            PrintNodeJobSource.job_seq.in_(job_seqs)
        )
    )
    return {row.job_seq: row.source for row in rows}
