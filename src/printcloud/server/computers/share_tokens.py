"""[ext] A printer's share token: a secret path, ``/ipp/share/<token>``, that prints to
that one printer over IPP without an API key (for the print dialogs of systems that
cannot send a user name, or an office that should not hold a key).

Tokens are ``ps_`` + 32 URL-safe characters (192 random bits). Only their SHA-256 is
stored, as for API keys: a fast hash is right for a random secret that cannot be
guessed, and lets the token be found by an index. Its owner sees it once, when it is
made; a printer has at most one live token, and replacing it revokes the old one in the
same transaction. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import ids
from printcloud.server.computers import repository
from printcloud.server.computers import share_token_repository as tokens
from printcloud.server.db.models import Printer, PrinterShareToken
from printcloud.server.db.types import utcnow
from printcloud.server.errors import Conflict, NotFound

log = structlog.get_logger(__name__)

PREFIX = "ps_"
_RANDOM_BYTES = 24  # 192 bits, 32 URL-safe characters
# What a page shows of a token, so that its owner can tell which one is live.
DISPLAY_PREFIX_LENGTH = len(PREFIX) + 6


def _hash(token: str) -> str:
    # "surrogatepass": any string a caller hands in hashes, none raises.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def printer_for_share_token(session: AsyncSession, token: str) -> Printer | None:
    """The printer a live share token opens, or None. The same work whatever the token
    (one hash, one indexed look-up by it): nothing about a wrong guess, not even its
    shape, answers sooner or later than another. A revoked token never matches."""
    return await tokens.printer_by_token_hash(session, _hash(token))


async def live_share_token(
    session: AsyncSession, account_id: str, printer_id: str
) -> PrinterShareToken | None:
    """The printer's live token (without the token itself, which is never kept)."""
    await _printer_of_account(session, account_id, printer_id)
    return await tokens.live_token(session, account_id, printer_id)


async def create_share_token(
    session: AsyncSession, account_id: str, printer_id: str, *, user_id: str | None
) -> tuple[PrinterShareToken, str]:
    """A new token for the printer, replacing (revoking) its live one if it has one:
    the row, and the token, which is shown once and never stored."""
    await _printer_of_account(session, account_id, printer_id)
    now = utcnow()
    replaced = await tokens.revoke_live(session, account_id, printer_id, now)
    token = PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    row = PrinterShareToken(
        id=ids.new_id("pst_"),
        account_id=account_id,
        printer_id=printer_id,
        token_hash=_hash(token),
        prefix=token[:DISPLAY_PREFIX_LENGTH],
        created_by=user_id,
        created_at=now,
        revoked_at=None,
    )
    try:
        await tokens.add(session, row)
    except IntegrityError as exc:  # replaced by someone else at the same moment
        raise Conflict("The printer's share token changed at the same moment; try again") from exc
    log.info(
        "share_token_created",
        account_id=account_id,
        printer_id=printer_id,
        token_id=row.id,
        replaced=bool(replaced),
    )
    return row, token


async def revoke_share_token(session: AsyncSession, account_id: str, printer_id: str) -> bool:
    """Revoke the printer's live token; False when it had none."""
    await _printer_of_account(session, account_id, printer_id)
    revoked = await tokens.revoke_live(session, account_id, printer_id, utcnow())
    if revoked:
        log.info("share_token_revoked", account_id=account_id, printer_id=printer_id)
    return bool(revoked)


async def _printer_of_account(session: AsyncSession, account_id: str, printer_id: str) -> None:
    if not await repository.printers(session, account_id, ids=[printer_id]):
        raise NotFound(f"No printer found with the id {printer_id}")
