"""Who may use an IPP printer: the one function that turns a request into (account,
printer, permission). A share token in the path (``/ipp/share/<token>``) resolves to
the same :class:`Target` and is served by the same operations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.accounts import service as accounts
from printcloud.server.accounts.deps import (
    api_key_from_header,
    count_account_request,
    count_request,
)
from printcloud.server.accounts.permissions import Action, Permission, allows
from printcloud.server.computers import share_tokens
from printcloud.server.errors import NotFound
from printcloud.server.ipp import repository
from printcloud.server.ports import Ports

_MAX_ID = 40


@dataclass(frozen=True)
class Target:
    account_id: str
    printer_id: str
    permission: Permission

    def may(self, action: Action) -> bool:
        return allows(self.permission, action)


async def by_key(
    session: AsyncSession, ports: Ports, authorization: str | None, printer_id: str
) -> Target:
    """HTTP Basic with an API key as the user name (any password), counted against the
    account's rate as an API request is; Unauthorized (with the challenge), NotFound
    for a printer that is not the account's, TooManyRequests."""
    # Unauthorized carries the challenge (``WWW-Authenticate: Basic realm="PrintCloud"``):
    # CUPS, ipptool and the systems' print dialogs send credentials only once asked.
    principal = await accounts.authenticate(
        session, api_key_from_header(authorization), ports.principals
    )
    await count_request(ports, principal)
    if len(printer_id) > _MAX_ID or not await repository.printer_exists(
        session, principal.account_id, printer_id
    ):
        raise NotFound(f"Printer {printer_id[:_MAX_ID]} not found")
    # The key and printer are read: end that read, so the connection goes back to the pool
    # while the document is received.
    await session.commit()
    return Target(principal.account_id, printer_id, principal.permission)


async def by_share_token(session: AsyncSession, ports: Ports, token: str) -> Target:
    """A printer's share link (``/ipp/share/<token>``): whoever has it prints to that
    printer and reads its jobs, as a ``print_only`` key would, and nothing else; counted
    against its account's rate. NotFound for a token that is not live, the same as for
    an unknown printer."""
    printer = await share_tokens.printer_for_share_token(session, token)
    if printer is None:
        raise NotFound("Printer not found")
    await count_account_request(ports, printer.account_id)
    await session.commit()
    return Target(printer.account_id, printer.id, Permission.PRINT_ONLY)
