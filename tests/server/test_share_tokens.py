"""[ext] Printers' share tokens: made once and shown once, found by their hash only,
revoked and replaced for good, never crossing accounts. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from printcloud.server.computers import share_tokens
from printcloud.server.db.models import Printer, PrinterShareToken
from printcloud.server.errors import Conflict, NotFound
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.waiting import eventually

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


async def _create(runtime: Runtime, account: TestAccount, printer_id: str) -> str:
    async with runtime.sessionmaker() as session:
        _, token = await share_tokens.create_share_token(
            session, account.account_id, printer_id, user_id=account.user.id
        )
        await session.commit()
    return token


async def _resolve(runtime: Runtime, token: str) -> Printer | None:
    async with runtime.sessionmaker() as session:
        return await share_tokens.printer_for_share_token(session, token)


async def test_a_new_token_opens_its_printer_and_only_its_hash_is_kept(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    token = await _create(runtime, account, printer_id)
    assert token.startswith(share_tokens.PREFIX)
    body = token.removeprefix(share_tokens.PREFIX)
    assert _URL_SAFE.fullmatch(body)
    assert len(body) * 6 >= 128  # URL-safe base64: six random bits a character
    printer = await _resolve(runtime, token)
    assert printer is not None
    assert (printer.id, printer.account_id) == (printer_id, account.account_id)
    async with runtime.sessionmaker() as session:
        [row] = (await session.scalars(select(PrinterShareToken))).all()
    stored = [str(getattr(row, c.key)) for c in PrinterShareToken.__table__.columns]
    assert all(token not in value for value in stored)  # not the token, nor most of it
    assert token.startswith(row.prefix)
    assert len(row.prefix) < len(token) // 2


async def test_two_tokens_are_never_alike(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = await _create(runtime, account, printer_id)
    second = await _create(runtime, account, printer_id)
    assert first != second


async def test_a_revoked_token_no_longer_opens_the_printer(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    token = await _create(runtime, account, printer_id)
    async with runtime.sessionmaker() as session:
        assert await share_tokens.revoke_share_token(session, account.account_id, printer_id)
        await session.commit()
    assert await _resolve(runtime, token) is None
    async with runtime.sessionmaker() as session:
        assert await share_tokens.live_share_token(session, account.account_id, printer_id) is None
        # Nothing left to revoke: said so, not an error.
        assert not await share_tokens.revoke_share_token(session, account.account_id, printer_id)


async def test_replacing_a_token_ends_the_old_one(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    old = await _create(runtime, account, printer_id)
    new = await _create(runtime, account, printer_id)
    assert await _resolve(runtime, old) is None
    replacement = await _resolve(runtime, new)
    assert replacement is not None
    assert replacement.id == printer_id
    async with runtime.sessionmaker() as session:
        live = await share_tokens.live_share_token(session, account.account_id, printer_id)
        assert live is not None
        assert new.startswith(live.prefix)
        revoked = await session.scalar(
            select(func.count())
            .select_from(PrinterShareToken)
            .where(PrinterShareToken.revoked_at.is_not(None))
        )
    assert revoked == 1


@pytest.mark.parametrize(
    "guess",
    ["", "ps_", "ps_" + "A" * 32, "not a token", "ps_\udcff", "ps_" + "x" * 100_000, "%00"],
)
async def test_anything_else_opens_nothing(
    runtime: Runtime, account: TestAccount, printer_id: str, guess: str
) -> None:
    token = await _create(runtime, account, printer_id)
    assert await _resolve(runtime, guess) is None
    assert await _resolve(runtime, token[:-1]) is None
    assert await _resolve(runtime, token + "A") is None
    assert await _resolve(runtime, token.upper()) is None


async def test_another_accounts_printer_has_no_token_to_manage(
    runtime: Runtime, account: TestAccount, other_account: TestAccount, printer_id: str
) -> None:
    token = await _create(runtime, account, printer_id)
    async with runtime.sessionmaker() as session:
        for manage in (
            share_tokens.create_share_token(
                session, other_account.account_id, printer_id, user_id=None
            ),
            share_tokens.revoke_share_token(session, other_account.account_id, printer_id),
            share_tokens.live_share_token(session, other_account.account_id, printer_id),
        ):
            with pytest.raises(NotFound):
                await manage
    assert await _resolve(runtime, token) is not None  # theirs untouched


async def test_a_token_row_naming_another_accounts_printer_opens_nothing(
    runtime: Runtime, account: TestAccount, other_account: TestAccount, printer_id: str
) -> None:
    # Whatever wrote such a row, the look-up is scoped by the token's own account.
    token = await _create(runtime, account, printer_id)
    async with runtime.sessionmaker() as session:
        row = await session.scalar(select(PrinterShareToken))
        assert row is not None
        row.account_id = other_account.account_id
        await session.commit()
    assert await _resolve(runtime, token) is None


async def test_the_database_keeps_one_live_token_per_printer(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    """What two replacements at the same moment would write: the second is refused
    (the service answers it 409 Conflict), a revoked one is kept beside the live one."""
    await _create(runtime, account, printer_id)
    await _create(runtime, account, printer_id)  # one revoked, one live: allowed
    async with runtime.sessionmaker() as session:
        live = await share_tokens.live_share_token(session, account.account_id, printer_id)
        assert live is not None
        session.add(
            PrinterShareToken(
                id="pst_other",
                account_id=account.account_id,
                printer_id=printer_id,
                token_hash="0" * 64,
                prefix="ps_other",
                created_at=live.created_at,
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()


async def test_two_replacements_at_once_leave_one_live_token(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    """PostgreSQL lets both run: the second waits on the first's live token and is
    refused (409 Conflict) once the first commits. SQLite runs them one after the other
    (one connection): the second replaces the first. Either way one token is live."""
    postgres = runtime.database.engine.dialect.name == "postgresql"
    async with runtime.sessionmaker() as first, runtime.sessionmaker() as second:
        _, kept = await share_tokens.create_share_token(
            first, account.account_id, printer_id, user_id=None
        )
        racing = asyncio.create_task(
            share_tokens.create_share_token(second, account.account_id, printer_id, user_id=None)
        )
        if postgres:
            await eventually(lambda: _waiting_on_a_lock(runtime))
        await first.commit()
        if postgres:
            with pytest.raises(Conflict):
                await racing
            await second.rollback()
            live = kept
        else:
            _, live = await racing
            await second.commit()
            assert await _resolve(runtime, kept) is None
    resolved = await _resolve(runtime, live)
    assert resolved is not None
    assert resolved.id == printer_id
    async with runtime.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(PrinterShareToken)
            .where(PrinterShareToken.revoked_at.is_(None))
        )
    assert count == 1


async def _waiting_on_a_lock(runtime: Runtime) -> bool:
    async with runtime.sessionmaker() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_a_removed_printer_takes_its_tokens_with_it(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    token = await _create(runtime, account, printer_id)
    async with runtime.sessionmaker() as session:
        printer = await session.get(Printer, printer_id)
        assert printer is not None
        await session.delete(printer)
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(PrinterShareToken)) == 0
    assert await _resolve(runtime, token) is None
