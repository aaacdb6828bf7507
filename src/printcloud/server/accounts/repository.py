"""Accounts, users and API keys in the database. Only this module queries them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server.db.models import Account, ApiKey, User, UserToken, WebSession, table


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


# The account's users, and the links of invitations and password resets.


async def lock_account(session: AsyncSession, account_id: str) -> None:
    """Hold the account's row until the commit: changes to its owners take turns, so two
    owners demoting each other at once cannot leave it with none (PostgreSQL; SQLite
    writes one transaction at a time anyway)."""
    await session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


async def users(session: AsyncSession, account_id: str) -> Sequence[User]:
    result = await session.scalars(
        select(User).where(User.account_id == account_id).order_by(User.created_at, User.id)
    )
    return result.all()


async def account_user(session: AsyncSession, account_id: str, user_id: str) -> User | None:
    return await session.scalar(
        select(User).where(User.account_id == account_id, User.id == user_id)
    )


async def count_role(session: AsyncSession, account_id: str, role: str) -> int:
    count = await session.scalar(
        select(func.count()).where(User.account_id == account_id, User.role == role)
    )
    return int(count or 0)


async def set_role(session: AsyncSession, user_id: str, role: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(role=role))


async def delete_user(session: AsyncSession, user_id: str) -> None:
    # Its sessions and links by name: SQLite enforces no foreign key unless told to.
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    await session.execute(delete(UserToken).where(UserToken.user_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))


async def delete_sessions(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))


async def live_keys_of_user(
    session: AsyncSession, user_id: str, permissions: Sequence[str] | None = None
) -> Sequence[str]:
    query = select(ApiKey.id).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    if permissions is not None:
        query = query.where(ApiKey.permission.in_(permissions))
    return (await session.scalars(query)).all()


async def set_key_permission(
    session: AsyncSession, key_ids: Sequence[str], permission: str
) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.id.in_(key_ids)).values(permission=permission)
    )


async def revoke_keys(session: AsyncSession, key_ids: Sequence[str], at: datetime) -> None:
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id.in_(key_ids), ApiKey.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def add_token(session: AsyncSession, row: UserToken) -> None:
    session.add(row)
    await session.flush()


async def usable_token(
    session: AsyncSession, token_hash: str, purpose: str, now: datetime
) -> UserToken | None:
    return await session.scalar(
        select(UserToken).where(
            UserToken.id == token_hash,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
            UserToken.expires_at > now,
        )
    )


async def use_token(session: AsyncSession, token_hash: str, purpose: str, now: datetime) -> bool:
    """Mark the link used, once: False when it was used (by a request at the same
    moment too), expired or never made."""
    result = await session.execute(
        update(UserToken)
        .where(
            UserToken.id == token_hash,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
            UserToken.expires_at > now,
        )
        .values(used_at=now)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def use_tokens_of(session: AsyncSession, user_id: str, purpose: str, now: datetime) -> None:
    """Every unused link of ``purpose`` for the user stops working."""
    await session.execute(
        update(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def drop_pending_invites(
    session: AsyncSession, account_id: str, email: str, purpose: str
) -> None:
    await session.execute(
        delete(UserToken).where(
            UserToken.account_id == account_id,
            UserToken.email == email,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
        )
    )


async def pending_invites(
    session: AsyncSession, account_id: str, purpose: str, now: datetime
) -> Sequence[UserToken]:
    result = await session.scalars(
        select(UserToken)
        .where(
            UserToken.account_id == account_id,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
            UserToken.expires_at > now,
        )
        .order_by(UserToken.created_at)
    )
    return result.all()


async def delete_pending_invite(
    session: AsyncSession, account_id: str, token_hash: str, purpose: str
) -> bool:
    """Delete the account's unused invitation; False when it has no such one."""
    result = await session.execute(
        delete(UserToken).where(
            UserToken.account_id == account_id,
            UserToken.id == token_hash,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
        )
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]
