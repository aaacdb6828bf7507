"""Computers coming and going over the agent WebSocket, and the printers they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.events import EventType
from printcloud.protocol.messages import MAX_PRINTERS, Auth, AuthRefusal, PrinterInfo
from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server import ids
from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.service import Principal
from printcloud.server.computers import repository
from printcloud.server.computers.repository import ComputerRow, PrinterRow
from printcloud.server.db.types import utcnow
from printcloud.server.events import repository as events

log = structlog.get_logger(__name__)

# As many as one report may hold.
MAX_PRINTERS_PER_COMPUTER = MAX_PRINTERS


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
) -> ComputerRow:
    """The computer named in ``auth`` is now online here; created on its first visit.

    Only a ``full`` key (the one client login issues) may connect a computer. Refusals
    come before anything is written.
    """
    check_permission(principal)
    account_id = principal.account_id
    now = utcnow()
    computer = await _identify(session, account_id, auth)
    excluding = "" if computer is None else computer.id
    if await repository.online_count(session, account_id, excluding=excluding) >= max_connections:
        raise ConnectionRefused(
            f"This account already has {max_connections} connected computers",
            AuthRefusal.TOO_MANY_COMPUTERS,
        )
    if computer is None:
        computer = ComputerRow(ids.computer_id(), account_id, auth.computer_name, "")
        # Two first connections of one computer at the same moment: the loser's insert
        # fails on the unique (account, machine id) or (account, name) and its handler
        # tries once more.
        await repository.insert_computer(
            session,
            {
                "id": computer.id,
                "account_id": account_id,
                "name": auth.computer_name,
                "machine_id": auth.machine_id,
                "state": ComputerState.OFFLINE,
                "created_at": now,
            },
        )
    # Written now: whatever this transaction does next to the computer's jobs comes
    # after the computer's row, in the order every transaction of the agent path takes
    # its locks (on PostgreSQL, the other order deadlocks with a disconnect of the same
    # computer). A machine may be renamed; its id stays.
    await repository.set_online(
        session,
        computer.id,
        {
            "name": auth.computer_name,
            "os": auth.os,
            "client_version": auth.client_version,
            "now": now,
            "instance_id": instance_id,
            "connection_id": connection_id,
        },
    )
    if computer.state != ComputerState.ONLINE:
        await events.record(
            session,
            account_id,
            EventType.COMPUTER_CONNECTED,
            computerId=computer.id,
            name=auth.computer_name,
        )
    log.info(
        "computer_connected",
        account_id=account_id,
        computer_id=computer.id,
        connection_id=connection_id,
    )
    return computer._replace(name=auth.computer_name, state=ComputerState.ONLINE)


def check_permission(principal: Principal) -> None:
    """Only a ``full`` key (the one client login issues) may connect a computer."""
    if principal.permission is not Permission.FULL:
        raise ConnectionRefused(
            f"This API key's permission ({principal.permission.value}) does not allow "
            "connecting a computer; use a full key",
            AuthRefusal.PERMISSION_DENIED,
        )


async def _identify(session: AsyncSession, account_id: str, auth: Auth) -> ComputerRow | None:
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
    if earlier is not None and await repository.adopt(session, earlier.id, auth.machine_id):
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
    await _all_went_offline(session, [(computer_id, account_id)], now)
    log.info(
        "computer_disconnected",
        account_id=account_id,
        computer_id=computer_id,
        connection_id=connection_id,
    )
    return True


@dataclass(frozen=True)
class PrintersRecorded:
    count: int  # the computer's printers now online (or in another reported state)
    refused: list[str]  # new names not recorded: the computer has as many as it may


async def report_printers(
    session: AsyncSession, computer_id: str, account_id: str, reported: list[PrinterInfo]
) -> PrintersRecorded | None:
    """Create or update the reported printers; the others become offline, not deleted.
    What did not change is not written: a computer coming back after a restart reports
    the same printers, and only their state moves. None: the computer was removed.

    A computer keeps at most ``MAX_PRINTERS_PER_COMPUTER`` printers: past that, the
    unreported ones seen longest ago make room (unless a job still waits for one), and
    new names that still do not fit are refused. Without the bound, an agent reporting
    new names each time fills the account with printers that never come back."""
    if not await repository.computer_exists(session, computer_id):
        return None
    now = utcnow()
    by_name = {p.name: p for p in reported}  # a repeated name: the last report wins
    existing = {p.name: p for p in await repository.printer_rows(session, computer_id)}
    refused = await _make_room(session, account_id, existing, by_name)
    for name in refused:
        del by_name[name]
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    news: list[events.NewEvent] = []

    def state_news(printer_id: str, state: str) -> None:
        news.append(_printer_state(account_id, computer_id, printer_id, state))

    for name, info in by_name.items():
        state = info.state or PrinterState.ONLINE
        printer = existing.get(name)
        if printer is None:
            printer_id = ids.printer_id()
            added.append(
                {
                    "id": printer_id,
                    "account_id": account_id,
                    "computer_id": computer_id,
                    "name": name,
                    "capabilities": info.capabilities,
                    "is_default": info.is_default,
                    "state": state,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if state != PrinterState.OFFLINE:  # as if it had been offline until now
                state_news(printer_id, state)
        elif (printer.state, printer.capabilities, printer.is_default) != (
            state,
            info.capabilities,
            info.is_default,
        ):
            update = _printer_update(printer.id, state, info.capabilities, info.is_default, now)
            changed.append(update)
            if printer.state != state:
                state_news(printer.id, state)
    for name, printer in existing.items():
        if name not in by_name and printer.state != PrinterState.OFFLINE:
            changed.append(
                _printer_update(
                    printer.id, PrinterState.OFFLINE, printer.capabilities, printer.is_default, now
                )
            )
            state_news(printer.id, PrinterState.OFFLINE)
    await repository.insert_printers(session, added)
    await repository.update_printers(session, changed)
    if news:
        await events.record_many(session, news)
    return PrintersRecorded(len(by_name), refused)


async def _make_room(
    session: AsyncSession,
    account_id: str,
    existing: dict[str, PrinterRow],
    reported: dict[str, PrinterInfo],
) -> list[str]:
    """Forget old printers for the new names that would not fit; the names that
    still do not fit. ``existing`` loses what is forgotten."""
    new = [name for name in reported if name not in existing]
    over = len(existing) + len(new) - MAX_PRINTERS_PER_COMPUTER
    if over <= 0:
        return []
    unreported = sorted(
        (p for name, p in existing.items() if name not in reported),
        key=lambda p: (p.updated_at, p.created_at),
    )
    busy = await repository.printers_with_unfinished_jobs(
        session, account_id, [p.id for p in unreported]
    )
    forgotten = [p for p in unreported if p.id not in busy][:over]
    await repository.delete_printers(session, account_id, [p.id for p in forgotten])
    for printer in forgotten:
        del existing[printer.name]
    if forgotten:
        log.info("printers_forgotten", account_id=account_id, count=len(forgotten))
    return new[len(new) - (over - len(forgotten)) :] if over > len(forgotten) else []


def _printer_update(
    printer_id: str, state: str, capabilities: dict[str, Any], is_default: bool, now: datetime
) -> dict[str, Any]:
    return {
        "printer_id": printer_id,
        "state": state,
        "capabilities": capabilities,
        "is_default": is_default,
        "now": now,
    }


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
            _printer_state(account_id, computer_id, printer_id, PrinterState.OFFLINE)
            for printer_id in printers.get(computer_id, ())
        ]
    await events.record_many(session, news)


def _printer_state(
    account_id: str, computer_id: str, printer_id: str, state: str
) -> events.NewEvent:
    return (
        account_id,
        EventType.PRINTER_STATE,
        {"printerId": printer_id, "computerId": computer_id, "state": state},
    )


async def live_instances(session: AsyncSession, live_after: datetime) -> int:
    return await repository.live_instances(session, live_after)


async def instance_stopped(session: AsyncSession, instance_id: str) -> None:
    await repository.remove_instance(session, instance_id)
