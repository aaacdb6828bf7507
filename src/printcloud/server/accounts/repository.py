"""Accounts, users and API keys in the database. Only this module queries them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Account, ApiKey, User, table


async def add_account(session: AsyncSession, account: Account) -> None:
    session.add(account)
    await session.flush()


async def add_user(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def set_password_hash(session: AsyncSession, user_id: str, password_hash: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


async def add_api_key(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


_KEYS = table(ApiKey).c
# Every API request runs this: a statement built once, read as a plain row (no ORM
# object), costs a quarter of ``select(ApiKey)`` built per call.
_KEY_BY_HASH = select(
    _KEYS.id, _KEYS.account_id, _KEYS.permission, _KEYS.revoked_at, _KEYS.last_used_at
).where(_KEYS.key_hash == bindparam("key_hash"))
# Conditional, so that instances reading the same stale value write it once.
_TOUCH_KEY = (
    update(table(ApiKey))
    .where(
        _KEYS.id == bindparam("key_id"),
        _KEYS.last_used_at.is_(None) | (_KEYS.last_used_at < bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("now"))
)


async def api_key_by_hash(
    session: AsyncSession, key_hash: str
) -> Row[Any, Any, Any, Any, Any] | None:
    """The key's ``id``, ``account_id``, ``permission``, ``revoked_at`` and ``last_used_at``."""
    return (await session.execute(_KEY_BY_HASH, {"key_hash": key_hash})).first()


async def touch_api_key(
    session: AsyncSession, key_id: str, now: datetime, stale_before: datetime
) -> None:
    """The key was used ``now``: written unless its last use is after ``stale_before``."""
    await session.execute(_TOUCH_KEY, {"key_id": key_id, "now": now, "stale_before": stale_before})


async def api_keys(session: AsyncSession, account_id: str) -> Sequence[ApiKey]:
    result = await session.scalars(
        select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return result.all()


async def revoke_api_key(session: AsyncSession, account_id: str, key_id: str, at: datetime) -> bool:
    """Revoke the key; False when the account has no such key."""
    key = await session.scalar(
        select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.id == key_id)
    )
    if key is None:
        return False
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=at)
    )
    return True


async def revoked_among(session: AsyncSession, key_ids: Sequence[str]) -> set[str]:
    """Which of ``key_ids`` are revoked (or gone)."""
    live = await session.scalars(
        select(ApiKey.id).where(ApiKey.id.in_(key_ids), ApiKey.revoked_at.is_(None))
    )
    return set(key_ids) - set(live.all())
