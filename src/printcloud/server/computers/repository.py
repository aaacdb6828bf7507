"""Computers and printers in the database, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.job_states import UNFINISHED_STATES
from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server.db.models import Computer, Printer, PrintJob, ServerInstance, table
from printcloud.server.db.predicates import one_of


async def computers(session: AsyncSession, account_id: str) -> Sequence[Computer]:
    result = await session.scalars(
        select(Computer)
        .where(Computer.account_id == account_id)
        .order_by(Computer.created_at, Computer.id)
    )
    return result.all()


async def count_by_state(session: AsyncSession) -> tuple[dict[str, int], dict[str, int]]:
    """How many computers, and printers, are in each state on the whole server: the
    operator's figures (``/metrics``), never an account's, so not scoped by one."""
    computers = await session.execute(
        select(Computer.state, func.count().label("number")).group_by(Computer.state)
    )
    printers = await session.execute(
        select(Printer.state, func.count().label("number")).group_by(Printer.state)
    )
    return (
        {row.state: row.number for row in computers},
        {row.state: row.number for row in printers},
    )


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


async def delete_computers(session: AsyncSession, account_id: str, ids: Sequence[str]) -> None:
    await session.execute(
        delete(Printer).where(Printer.account_id == account_id, Printer.computer_id.in_(ids))
    )
    await session.execute(
        delete(Computer).where(Computer.account_id == account_id, Computer.id.in_(ids))
    )


async def connection_of(session: AsyncSession, computer_id: str) -> str | None:
    result: str | None = await session.scalar(
        select(Computer.connection_id).where(Computer.id == computer_id)
    )
    return result


def _gone(now: datetime) -> dict[str, Any]:
    """A computer's row once it went offline: held by no instance, no connection."""
    return {
        "state": ComputerState.OFFLINE,
        "connection_id": None,
        "instance_id": None,
        "last_seen_at": now,
    }


# A statement's parameters are bounded (SQLite 32,766; asyncpg 32,767).
_CHUNK = 5000


async def set_offline_if_current(
    session: AsyncSession, computer_id: str, connection_id: str, now: datetime
) -> str | None:
    """Mark the computer offline if ``connection_id`` is still its connection.

    Returns the account id when it did, None when another connection had taken over.
    """
    result = await session.execute(
        update(Computer)
        .where(Computer.id == computer_id, Computer.connection_id == connection_id)
        .values(_gone(now))
        .returning(Computer.account_id)
    )
    return result.scalar_one_or_none()


async def set_offline_of_instance(
    session: AsyncSession, instance_id: str, now: datetime
) -> list[tuple[str, str]]:
    """Every computer online through this instance: offline, in one statement (a
    shutdown). (id, account id)s."""
    result = await session.execute(
        update(Computer)
        .where(Computer.instance_id == instance_id, Computer.state == ComputerState.ONLINE)
        .values(_gone(now))
        .returning(Computer.id, Computer.account_id)
        .execution_options(synchronize_session=False)
    )
    return [(row[0], row[1]) for row in result.all()]


async def set_printers_offline_of(
    session: AsyncSession, computer_ids: Sequence[str], now: datetime
) -> list[tuple[str, str]]:
    """The printers of these computers that were online, now offline: (id, computer id)s,
    in statements of ``_CHUNK`` computers."""
    offline: list[tuple[str, str]] = []
    for start in range(0, len(computer_ids), _CHUNK):
        result = await session.execute(
            update(Printer)
            .where(
                Printer.computer_id.in_(computer_ids[start : start + _CHUNK]),
                Printer.state != PrinterState.OFFLINE,
            )
            .values(state=PrinterState.OFFLINE, updated_at=now)
            .returning(Printer.id, Printer.computer_id)
            .execution_options(synchronize_session=False)
        )
        offline += [(row[0], row[1]) for row in result.all()]
    return offline


async def set_offline_on_dead_instances(
    session: AsyncSession, live_after: datetime, now: datetime
) -> list[tuple[str, str]]:
    """Computers held by instances whose heartbeat stopped: offline. (id, account id)s."""
    live = select(ServerInstance.id).where(ServerInstance.heartbeat_at >= live_after)
    result = await session.execute(
        update(Computer)
        .where(
            Computer.state == ComputerState.ONLINE,
            or_(Computer.instance_id.is_(None), Computer.instance_id.not_in(live)),
        )
        .values(_gone(now))
        .returning(Computer.id, Computer.account_id)
    )
    await session.execute(delete(ServerInstance).where(ServerInstance.heartbeat_at < live_after))
    return [(row[0], row[1]) for row in result.all()]


async def heartbeat(session: AsyncSession, instance_id: str, now: datetime) -> None:
    updated = await session.execute(
        update(ServerInstance).where(ServerInstance.id == instance_id).values(heartbeat_at=now)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ServerInstance(id=instance_id, started_at=now, heartbeat_at=now))
    # The computers it holds are not touched (``Computer.seen_at``).


async def live_instances(session: AsyncSession, live_after: datetime) -> int:
    """Server instances whose heartbeat came after ``live_after`` (this one included)."""
    count = await session.scalar(
        select(func.count())
        .select_from(ServerInstance)
        .where(ServerInstance.heartbeat_at >= live_after)
    )
    return int(count or 0)


async def remove_instance(session: AsyncSession, instance_id: str) -> None:
    await session.execute(delete(ServerInstance).where(ServerInstance.id == instance_id))


# The agent path: a storm of reconnections after a restart runs these thousands of times
# a second, so they are built once, on the tables, and answer plain rows. Loading and
# flushing ORM objects cost several times the SQL (docs/performance.md, issue 16).

_C = table(Computer).c
_P = table(Printer).c


class ComputerRow(NamedTuple):
    id: str
    account_id: str
    name: str
    state: str


class PrinterRow(NamedTuple):
    id: str
    name: str
    state: str
    capabilities: dict[str, Any]
    is_default: bool
    updated_at: datetime
    created_at: datetime


_ROW = (_C.id, _C.account_id, _C.name, _C.state)
_BY_NAME = select(*_ROW).where(
    _C.account_id == bindparam("account_id"),
    _C.name == bindparam("name"),
    _C.machine_id.is_(None),
)
_BY_MACHINE = select(*_ROW).where(
    _C.account_id == bindparam("account_id"), _C.machine_id == bindparam("machine_id")
)
_ADOPT = (
    update(table(Computer))
    .where(_C.id == bindparam("computer_id"), _C.machine_id.is_(None))
    .values(machine_id=bindparam("machine_id"))
)
_INSERT_COMPUTER = insert(table(Computer))
_COUNT_ONLINE = (
    select(func.count())
    .select_from(table(Computer))
    .where(
        _C.account_id == bindparam("account_id"),
        _C.state == ComputerState.ONLINE,
        _C.id != bindparam("excluding"),
    )
)
_ONLINE = (
    update(table(Computer))
    .where(_C.id == bindparam("computer_id"))
    .values(
        name=bindparam("name"),
        os=bindparam("os"),
        client_version=bindparam("client_version"),
        state=ComputerState.ONLINE,
        last_seen_at=bindparam("now"),
        instance_id=bindparam("instance_id"),
        connection_id=bindparam("connection_id"),
    )
)
_EXISTS = select(_C.id).where(_C.id == bindparam("computer_id"))
_PRINTERS_OF = select(
    _P.id, _P.name, _P.state, _P.capabilities, _P.is_default, _P.updated_at, _P.created_at
).where(_P.computer_id == bindparam("computer_id"))
_INSERT_PRINTERS = insert(table(Printer))
_UPDATE_PRINTER = (
    update(table(Printer))
    .where(_P.id == bindparam("printer_id"))
    .values(
        state=bindparam("state"),
        capabilities=bindparam("capabilities"),
        is_default=bindparam("is_default"),
        updated_at=bindparam("now"),
    )
)


async def computer_by_name(session: AsyncSession, account_id: str, name: str) -> ComputerRow | None:
    """The computer of this name whose client sends no machine id."""
    row = (await session.execute(_BY_NAME, {"account_id": account_id, "name": name})).first()
    return None if row is None else ComputerRow(*row)


async def computer_by_machine(
    session: AsyncSession, account_id: str, machine_id: str
) -> ComputerRow | None:
    params = {"account_id": account_id, "machine_id": machine_id}
    row = (await session.execute(_BY_MACHINE, params)).first()
    return None if row is None else ComputerRow(*row)


async def adopt(session: AsyncSession, computer_id: str, machine_id: str) -> bool:
    """Give the computer its first machine id, unless another connection did meanwhile."""
    params = {"computer_id": computer_id, "machine_id": machine_id}
    result = await session.execute(_ADOPT, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_computer(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(_INSERT_COMPUTER, values)


async def online_count(session: AsyncSession, account_id: str, *, excluding: str) -> int:
    params = {"account_id": account_id, "excluding": excluding}
    return int(await session.scalar(_COUNT_ONLINE, params) or 0)


async def set_online(session: AsyncSession, computer_id: str, values: dict[str, Any]) -> None:
    await session.execute(_ONLINE, {"computer_id": computer_id, **values})


async def computer_exists(session: AsyncSession, computer_id: str) -> bool:
    return await session.scalar(_EXISTS, {"computer_id": computer_id}) is not None


async def printer_rows(session: AsyncSession, computer_id: str) -> list[PrinterRow]:
    result = await session.execute(_PRINTERS_OF, {"computer_id": computer_id})
    return [PrinterRow(*row) for row in result.all()]


async def printers_with_unfinished_jobs(
    session: AsyncSession, account_id: str, printer_ids: Sequence[str]
) -> set[str]:
    if not printer_ids:
        return set()
    result = await session.scalars(
        select(PrintJob.printer_id)
        .where(
            PrintJob.account_id == account_id,
            PrintJob.printer_id.in_(printer_ids),
            one_of(PrintJob.state, UNFINISHED_STATES),
        )
        .distinct()
    )
    return {printer_id for printer_id in result.all() if printer_id is not None}


async def delete_printers(session: AsyncSession, account_id: str, ids: Sequence[str]) -> None:
    if ids:
        await session.execute(
            delete(Printer).where(Printer.account_id == account_id, Printer.id.in_(ids))
        )


async def insert_printers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_INSERT_PRINTERS, rows)


async def update_printers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each row: printer_id, state, capabilities, is_default, now."""
    if rows:
        await session.execute(_UPDATE_PRINTER, rows)
