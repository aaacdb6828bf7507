"""Computers and printers in the database, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server.db.models import Computer, Printer, ServerInstance


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


async def delete_computers(session: AsyncSession, account_id: str, ids: Sequence[str]) -> None:
    await session.execute(
        delete(Printer).where(Printer.account_id == account_id, Printer.computer_id.in_(ids))
    )
    await session.execute(
        delete(Computer).where(Computer.account_id == account_id, Computer.id.in_(ids))
    )


async def computer_by_name(session: AsyncSession, account_id: str, name: str) -> Computer | None:
    """The computer of this name whose client sends no machine id."""
    return await session.scalar(
        select(Computer).where(
            Computer.account_id == account_id,
            Computer.name == name,
            Computer.machine_id.is_(None),
        )
    )


async def computer_by_machine(
    session: AsyncSession, account_id: str, machine_id: str
) -> Computer | None:
    return await session.scalar(
        select(Computer).where(Computer.account_id == account_id, Computer.machine_id == machine_id)
    )


async def adopt(session: AsyncSession, computer: Computer, machine_id: str) -> bool:
    """Give the computer its first machine id, unless another connection did meanwhile."""
    result = await session.execute(
        update(Computer)
        .where(Computer.id == computer.id, Computer.machine_id.is_(None))
        .values(machine_id=machine_id)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    set_committed_value(computer, "machine_id", machine_id)
    return True


async def connection_of(session: AsyncSession, computer_id: str) -> str | None:
    result: str | None = await session.scalar(
        select(Computer.connection_id).where(Computer.id == computer_id)
    )
    return result


async def add_computer(session: AsyncSession, computer: Computer) -> None:
    session.add(computer)
    await session.flush()


async def count_online(session: AsyncSession, account_id: str, *, excluding: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Computer)
        .where(
            Computer.account_id == account_id,
            Computer.state == ComputerState.ONLINE,
            Computer.id != excluding,
        )
    )
    return int(count or 0)


async def set_offline_if_current(
    session: AsyncSession, computer_id: str, connection_id: str, now: datetime
) -> str | None:
    """Mark the computer offline if ``connection_id`` is still its connection.

    Returns the account id when it did, None when another connection had taken over.
    """
    result = await session.execute(
        update(Computer)
        .where(Computer.id == computer_id, Computer.connection_id == connection_id)
        .values(state=ComputerState.OFFLINE, connection_id=None, instance_id=None, last_seen_at=now)
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
        .values(state=ComputerState.OFFLINE, connection_id=None, instance_id=None, last_seen_at=now)
        .returning(Computer.id, Computer.account_id)
        .execution_options(synchronize_session=False)
    )
    return [(row[0], row[1]) for row in result.all()]


async def set_printers_offline_of(
    session: AsyncSession, computer_ids: Sequence[str], now: datetime
) -> list[tuple[str, str]]:
    """The printers of these computers that were online, now offline: (id, computer id)s.
    Chunked: a statement's parameters are bounded (SQLite 32,766; asyncpg 32,767)."""
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


_CHUNK = 5000


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
        .values(state=ComputerState.OFFLINE, connection_id=None, instance_id=None, last_seen_at=now)
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
    await session.execute(
        update(Computer)
        .where(Computer.instance_id == instance_id, Computer.state == ComputerState.ONLINE)
        .values(last_seen_at=now)
    )


async def remove_instance(session: AsyncSession, instance_id: str) -> None:
    await session.execute(delete(ServerInstance).where(ServerInstance.id == instance_id))


async def printers_of(session: AsyncSession, computer_id: str) -> Sequence[Printer]:
    result = await session.scalars(select(Printer).where(Printer.computer_id == computer_id))
    return result.all()


async def add_printer(session: AsyncSession, printer: Printer) -> None:
    session.add(printer)
