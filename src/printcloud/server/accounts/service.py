"""Users, client login and API keys: the decisions. Nothing here commits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import effects, ids, metrics
from printcloud.server.accounts import keys, passwords, repository
from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.roles import LOGIN_KEY_PERMISSION, Role
from printcloud.server.db.models import Account, ApiKey, User
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, NotFound, TooManyRequests, Unauthorized
from printcloud.server.keycache import KeyCache
from printcloud.server.ratelimit import RateLimiter
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

# Deliberately loose: one "@", something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A key's last use is written when the one read with it is older than this: a key in
# steady use costs a write every few minutes, not one per request (and its row is read
# only when the key cache forgets it, every ``keycache.DEFAULT_TTL`` seconds).
LAST_USED_PRECISION = timedelta(minutes=5)
# What a key made by a client login without a description of its own is called.
CLIENT_LOGIN_DESCRIPTION = "Client login {now:%Y-%m-%d %H:%M} UTC"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def valid_email(email: str) -> bool:
    return bool(_EMAIL.match(email)) and len(email) <= 320


class KeyRefused(Unauthorized):
    """The API key is not one of ours, or no longer: ``revoked`` tells which."""

    def __init__(self, message: str, *, revoked: bool = False) -> None:
        super().__init__(message)
        self.revoked = revoked


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, and the key with its permission."""

    account_id: str
    key_id: str
    permission: Permission


async def create_user(
    session: AsyncSession, *, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create an account with its first user, its owner."""
    email = normalize_email(email)
    if not valid_email(email):
        raise BadRequest(f"email: {email!r} is not a valid e-mail address")
    reason = passwords.weakness(password)
    if reason:
        raise BadRequest(f"password: {reason}")
    if await repository.user_by_email(session, email) is not None:
        raise BadRequest(f"email: a user with the e-mail {email} already exists")
    account = Account(id=ids.account_id(), created_at=utcnow())
    user = User(
        id=ids.user_id(),
        account_id=account.id,
        email=email,
        password_hash=await passwords.hash_password(password),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        created_at=utcnow(),
        role=Role.OWNER.value,
    )
    await repository.add_account(session, account)
    try:
        await repository.add_user(session, user)
    except IntegrityError as exc:  # created by someone else at the same moment
        raise BadRequest(f"email: a user with the e-mail {email} already exists") from exc
    log.info("user_created", user_id=user.id, account_id=account.id)
    return user


async def create_api_key(
    session: AsyncSession,
    *,
    account_id: str,
    description: str,
    permission: Permission,
    user_id: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key: the row, and the key itself, which is never stored and shown once."""
    secret = keys.generate()
    row = ApiKey(
        id=ids.key_id(),
        account_id=account_id,
        user_id=user_id,
        key_hash=keys.hash_key(secret),
        prefix=keys.display_prefix(secret),
        description=description.strip(),
        permission=permission.value,
        created_at=utcnow(),
        revoked_at=None,
    )
    await repository.add_api_key(session, row)
    log.info("api_key_created", account_id=account_id, key_id=row.id, permission=permission.value)
    return row, secret


async def api_keys(session: AsyncSession, account_id: str) -> Sequence[ApiKey]:
    return await repository.api_keys(session, account_id)


async def revoke_api_key(session: AsyncSession, account_id: str, key_id: str) -> None:
    """The key stops working at once: every agent connection it opened is closed once
    that is committed."""
    if not await repository.revoke_api_key(session, account_id, key_id, utcnow()):
        raise NotFound(f"API key {key_id} not found")
    effects.key_revoked(session, key_id)
    log.info("api_key_revoked", account_id=account_id, key_id=key_id)


async def revoked_keys(session: AsyncSession, key_ids: Sequence[str]) -> set[str]:
    """Which of ``key_ids`` no longer authenticate: what an instance that may have
    missed a revocation (its bus was away) checks its connections against."""
    return await repository.revoked_among(session, key_ids) if key_ids else set()


async def authenticate(
    session: AsyncSession, api_key: str, remembered: KeyCache[Principal] | None = None
) -> Principal:
    """Who ``api_key`` is, or KeyRefused. With ``remembered``, an answer it holds is
    taken without a read, and a read's answer is kept there."""
    if not keys.is_well_formed(api_key):
        raise KeyRefused("Invalid API key")
    key_hash = keys.hash_key(api_key)
    if remembered is None:
        return await _authenticate_hash(session, key_hash)
    principal = remembered.get(key_hash)
    if principal is None:
        generation = remembered.generation
        principal = await _authenticate_hash(session, key_hash)
        remembered.put(key_hash, principal.key_id, principal, generation)
    return principal


def remembered_principal(remembered: KeyCache[Principal], api_key: str) -> Principal | None:
    """The answer ``remembered`` holds for ``api_key``, if any: no read, no refusal.
    Only well-formed keys are remembered, so the checksum is not checked again."""
    return remembered.get(keys.hash_key(api_key))


async def _authenticate_hash(session: AsyncSession, key_hash: str) -> Principal:
    row = await repository.api_key_by_hash(session, key_hash)
    if row is None:
        raise KeyRefused("Invalid API key")
    if row.revoked_at is not None:
        raise KeyRefused("This API key has been revoked", revoked=True)
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        await repository.touch_api_key(session, row.id, now, now - LAST_USED_PRECISION)
    return Principal(row.account_id, row.id, Permission(row.permission))


@dataclass(frozen=True)
class LoginAttempt:
    """An e-mail and password, and the client address they came from."""

    email: str
    password: str = field(repr=False)
    address: str
    # What the new key is called; the original's "Client login <date>" without it.
    key_description: str | None = None


async def check_login(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, attempt: LoginAttempt
) -> User:
    """The user with this e-mail and password: the API's client login and the dashboard's.

    A wrong e-mail and a wrong password get the same answer after the same work.
    Failures are counted per e-mail and per client address, in one budget for both
    ways in; past either budget the answer is 429 until it recovers, whether or not
    the password is right.
    """
    email, address = normalize_email(attempt.email), attempt.address
    budgets = [
        (f"login:email:{email}", settings.login_email_rate, metrics.LOGIN_EMAIL),
        (f"login:addr:{address}", settings.login_address_rate, metrics.LOGIN_ADDRESS),
    ]
    for key, rate, limit in budgets:
        decision = await limiter.peek(key, rate)
        if not decision.allowed:
            metrics.RATE_LIMITED_BY_LIMIT[limit].inc()
            log.warning("login_throttled", address=address)
            raise TooManyRequests(
                "Too many failed logins; try again later", retry_after=decision.retry_after
            )
    user = await repository.user_by_email(session, email)
    if not await passwords.verify_password(user.password_hash if user else None, attempt.password):
        for key, rate, _ in budgets:
            await limiter.hit(key, rate)
        log.info("login_failed", address=address)
        raise Unauthorized("Invalid e-mail or password")
    assert user is not None
    return user


async def client_login(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, attempt: LoginAttempt
) -> tuple[User, str]:
    """Check e-mail and password and issue a new key for the client program: full for
    an owner, print_only for a member (``roles.LOGIN_KEY_PERMISSION``)."""
    user = await check_login(session, limiter, settings, attempt)
    _, secret = await create_api_key(
        session,
        account_id=user.account_id,
        user_id=user.id,
        description=attempt.key_description or CLIENT_LOGIN_DESCRIPTION.format(now=utcnow()),
        permission=LOGIN_KEY_PERMISSION[Role(user.role)],
    )
    return user, secret


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await repository.user_by_id(session, user_id)


async def change_password(
    session: AsyncSession, user: User, *, current_password: str, new_password: str
) -> None:
    """Replace the user's password after checking the current one."""
    if not await passwords.verify_password(user.password_hash, current_password):
        raise Unauthorized("The current password is wrong")
    reason = passwords.weakness(new_password)
    if reason:
        raise BadRequest(f"password: {reason}")
    await repository.set_password_hash(
        session, user.id, await passwords.hash_password(new_password)
    )
    log.info("password_changed", user_id=user.id, account_id=user.account_id)
