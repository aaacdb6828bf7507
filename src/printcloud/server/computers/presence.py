"""Computers coming and going over the agent WebSocket, and the printers they report."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.events import EventType
from printcloud.protocol.messages import Auth, AuthRefusal, PrinterInfo
from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server import ids
from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.service import Principal
from printcloud.server.computers import repository
from printcloud.server.db.models import Computer, Printer
from printcloud.server.db.types import utcnow
from printcloud.server.events import repository as events

log = structlog.get_logger(__name__)


class ConnectionRefused(Exception):
    """The computer may not connect now; the message is for the agent's user, the
    refusal for its code."""

    def __init__(self, message: str, refusal: AuthRefusal) -> None:
        super().__init__(message)
        self.refusal = refusal


async def connect(
    session: AsyncSession,
    principal: Principal,
    auth: Auth,
    *,
    instance_id: str,
    connection_id: str,
    max_connections: int,
) -> Computer:
    """The computer named in ``auth`` is now online here; created on its first visit.

    Only a ``full`` key (the one client login issues) may connect a computer.
    """
    if principal.permission is not Permission.FULL:
        raise ConnectionRefused(
            f"This API key's permission ({principal.permission.value}) does not allow "
            "connecting a computer; use a full key",
            AuthRefusal.PERMISSION_DENIED,
        )
    account_id = principal.account_id
    now = utcnow()
    computer = await _identify(session, account_id, auth)
    if computer is None:
        computer = Computer(
            id=ids.computer_id(),
            account_id=account_id,
            name=auth.computer_name,
            machine_id=auth.machine_id,
            state=ComputerState.OFFLINE,
            created_at=now,
        )
        # Two first connections of one computer at the same moment: the loser's flush
        # fails on the unique (account, machine id) or (account, name) and its handler
        # tries once more.
        await repository.add_computer(session, computer)
    if await repository.count_online(session, account_id, excluding=computer.id) >= max_connections:
        raise ConnectionRefused(
            f"This account already has {max_connections} connected computers",
            AuthRefusal.TOO_MANY_COMPUTERS,
        )
    was_online = computer.state == ComputerState.ONLINE
    computer.name = auth.computer_name  # a machine may be renamed; its id stays
    computer.os = auth.os
    computer.client_version = auth.client_version
    computer.state = ComputerState.ONLINE
    computer.last_seen_at = now
    computer.instance_id = instance_id
    computer.connection_id = connection_id
    # Written now, not at the commit: whatever this transaction does next to the
    # computer's jobs comes after the computer's row, in the order every transaction of
    # the agent path takes its locks (on PostgreSQL, the other order deadlocks with a
    # disconnect of the same computer).
    await session.flush()
    if not was_online:
        await events.record(
            session,
            account_id,
            EventType.COMPUTER_CONNECTED,
            computerId=computer.id,
            name=computer.name,
        )
    log.info(
        "computer_connected",
        account_id=account_id,
        computer_id=computer.id,
        connection_id=connection_id,
    )
    return computer


async def _identify(session: AsyncSession, account_id: str, auth: Auth) -> Computer | None:
    """The computer ``auth`` speaks for: (account, machine id) when the client sends one,
    else (account, name) among the computers without one, as the original document has
    it. A machine id seen for the first time takes over the computer of its name that
    had none (the same agent, before it sent machine ids), once."""
    if auth.machine_id is None:
        return await repository.computer_by_name(session, account_id, auth.computer_name)
    computer = await repository.computer_by_machine(session, account_id, auth.machine_id)
    if computer is not None:
        return computer
    earlier = await repository.computer_by_name(session, account_id, auth.computer_name)
    if earlier is not None and await repository.adopt(session, earlier, auth.machine_id):
        return earlier
    return None


async def live_connection(session: AsyncSession, computer_id: str) -> str | None:
    """The connection the computer is online through now, if any."""
    return await repository.connection_of(session, computer_id)


async def disconnect(session: AsyncSession, computer_id: str, connection_id: str) -> bool:
    """Offline, with its printers, unless another connection took over; False then."""
    now = utcnow()
    account_id = await repository.set_offline_if_current(session, computer_id, connection_id, now)
    if account_id is None:
        return False
    await _went_offline(session, account_id, computer_id, now)
    log.info(
        "computer_disconnected",
        account_id=account_id,
        computer_id=computer_id,
        connection_id=connection_id,
    )
    return True


async def report_printers(
    session: AsyncSession, computer: Computer, reported: list[PrinterInfo]
) -> int:
    """Create or update the reported printers; the others become offline, not deleted."""
    now = utcnow()
    by_name = {p.name: p for p in reported}  # a repeated name: the last report wins
    existing = {p.name: p for p in await repository.printers_of(session, computer.id)}
    for name, info in by_name.items():
        printer = existing.get(name)
        if printer is None:
            printer = Printer(
                id=ids.printer_id(),
                account_id=computer.account_id,
                computer_id=computer.id,
                name=name,
                state=PrinterState.OFFLINE,
                created_at=now,
            )
            await repository.add_printer(session, printer)
        printer.capabilities = info.capabilities
        printer.is_default = info.is_default
        printer.updated_at = now
        await _set_state(session, printer, info.state or PrinterState.ONLINE)
    for name, printer in existing.items():
        if name not in by_name:
            await _set_state(session, printer, PrinterState.OFFLINE)
    return len(by_name)


async def _set_state(session: AsyncSession, printer: Printer, state: PrinterState) -> None:
    if printer.state == state:
        return
    printer.state = state
    await events.record(
        session,
        printer.account_id,
        EventType.PRINTER_STATE,
        printerId=printer.id,
        computerId=printer.computer_id,
        state=state,
    )


async def heartbeat(
    session: AsyncSession, instance_id: str, now: datetime, *, live_after: datetime
) -> None:
    """This instance is alive (its computers with it); computers held by an instance
    whose heartbeat stopped before ``live_after`` are offline."""
    await repository.heartbeat(session, instance_id, now)
    computers = await repository.set_offline_on_dead_instances(session, live_after, now)
    await _all_went_offline(session, computers, now)
    for computer_id, _ in computers:
        log.info("computer_offline_instance_dead", computer_id=computer_id)


async def instance_offline(session: AsyncSession, instance_id: str) -> int:
    """A graceful shutdown: every computer connected through this instance is offline,
    written in one statement (its printers' in one per 5,000 computers) instead of one
    transaction per socket. How many."""
    now = utcnow()
    computers = await repository.set_offline_of_instance(session, instance_id, now)
    await _all_went_offline(session, computers, now)
    log.info("computers_offline_instance_stopped", instance_id=instance_id, count=len(computers))
    return len(computers)


async def _went_offline(
    session: AsyncSession, account_id: str, computer_id: str, now: datetime
) -> None:
    await _all_went_offline(session, [(computer_id, account_id)], now)


async def _all_went_offline(
    session: AsyncSession, computers: list[tuple[str, str]], now: datetime
) -> None:
    """Computers that cannot be reached cannot print: their printers read ``offline``
    too, each with its ``printer.state``, until the computer reports them again. Each
    computer's ``computer.disconnected`` comes before its printers' events."""
    if not computers:
        return
    printers: dict[str, list[str]] = {}
    for printer_id, computer_id in await repository.set_printers_offline_of(
        session, [computer_id for computer_id, _ in computers], now
    ):
        printers.setdefault(computer_id, []).append(printer_id)
    news: list[events.NewEvent] = []
    for computer_id, account_id in computers:
        news.append((account_id, EventType.COMPUTER_DISCONNECTED, {"computerId": computer_id}))
        news += [
            (
                account_id,
                EventType.PRINTER_STATE,
                {"printerId": printer_id, "computerId": computer_id, "state": PrinterState.OFFLINE},
            )
            for printer_id in printers.get(computer_id, ())
        ]
    await events.record_many(session, news)


async def instance_stopped(session: AsyncSession, instance_id: str) -> None:
    await repository.remove_instance(session, instance_id)
