"""The users of an account: invitations, roles, removal and password resets. Nothing
here commits; nothing here sends mail (the edge sends what these return, after the
commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import effects, ids
from printcloud.server.accounts import links, passwords, repository
from printcloud.server.accounts.links import Purpose
from printcloud.server.accounts.permissions import Permission
from printcloud.server.accounts.roles import LOGIN_KEY_PERMISSION, Role
from printcloud.server.accounts.service import normalize_email, valid_email
from printcloud.server.db.models import User, UserToken
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, NotFound, PrintCloudError

log = structlog.get_logger(__name__)


class LinkNotUsable(PrintCloudError):
    """The link was used already, has expired, or was never made: one answer for all."""

    status_code = 410


class LastOwner(PrintCloudError):
    """The change would leave the account without an owner."""

    status_code = 409


@dataclass(frozen=True)
class Link:
    """A link just made: the token goes in the URL, shown or mailed once."""

    token: str
    email: str
    row: UserToken


async def users(session: AsyncSession, account_id: str) -> Sequence[User]:
    return await repository.users(session, account_id)


async def pending_invites(session: AsyncSession, account_id: str) -> Sequence[UserToken]:
    return await repository.pending_invites(session, account_id, Purpose.INVITE, utcnow())


async def _make_link(
    session: AsyncSession,
    purpose: Purpose,
    *,
    account_id: str,
    email: str,
    role: Role,
    user_id: str | None = None,
) -> Link:
    token = links.new_token()
    now = utcnow()
    row = UserToken(
        id=links.hash_token(token),
        purpose=purpose.value,
        account_id=account_id,
        user_id=user_id,
        email=email,
        role=role.value,
        created_at=now,
        expires_at=now + links.LIFETIME[purpose],
        used_at=None,
    )
    await repository.add_token(session, row)
    return Link(token, email, row)


async def invite(session: AsyncSession, account_id: str, email: str, role: Role) -> Link:
    """An invitation for ``email`` to join the account as ``role``; an earlier pending
    one for the same address stops working."""
    email = normalize_email(email)
    if not valid_email(email):
        raise BadRequest(f"email: {email!r} is not a valid e-mail address")
    if await repository.user_by_email(session, email) is not None:
        raise BadRequest(f"email: {email} already has a PrintCloud user")
    await repository.drop_pending_invites(session, account_id, email, Purpose.INVITE)
    link = await _make_link(session, Purpose.INVITE, account_id=account_id, email=email, role=role)
    log.info("user_invited", account_id=account_id, role=role.value)
    return link


async def cancel_invite(session: AsyncSession, account_id: str, invite_id: str) -> None:
    """The pending invitation stops working (``invite_id`` is the stored hash, never the
    token: the users page shows it, and it opens nothing)."""
    if not await repository.delete_pending_invite(session, account_id, invite_id, Purpose.INVITE):
        raise NotFound(f"Invitation {invite_id} not found")
    log.info("invite_cancelled", account_id=account_id)


async def usable_link(session: AsyncSession, token: str, purpose: Purpose) -> UserToken:
    """The link behind ``token`` while it can still be used (a page showing its form)."""
    row = None
    if links.well_formed(token):
        row = await repository.usable_token(session, links.hash_token(token), purpose, utcnow())
    if row is None:
        raise LinkNotUsable("This link was used already, has expired, or does not exist")
    return row


async def _use(session: AsyncSession, token: str, purpose: Purpose) -> UserToken:
    row = await usable_link(session, token, purpose)
    # Conditional: of two requests with one link, one wins.
    if not await repository.use_token(session, row.id, purpose, utcnow()):
        raise LinkNotUsable("This link was used already, has expired, or does not exist")
    return row


async def accept_invite(
    session: AsyncSession, token: str, *, password: str, first_name: str, last_name: str
) -> User:
    """The invitee joins: a user of the invitation's account and role, signed in next."""
    reason = passwords.weakness(password)
    if reason:  # before the link is used, so that a second try can follow
        raise BadRequest(f"password: {reason}")
    row = await _use(session, token, Purpose.INVITE)
    if await repository.user_by_email(session, row.email) is not None:
        raise BadRequest(f"email: {row.email} already has a PrintCloud user")
    user = User(
        id=ids.user_id(),
        account_id=row.account_id,
        email=row.email,
        password_hash=await passwords.hash_password(password),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        created_at=utcnow(),
        role=row.role,
    )
    try:
        await repository.add_user(session, user)
    except IntegrityError as exc:  # the same address joined at the same moment
        raise BadRequest(f"email: {row.email} already has a PrintCloud user") from exc
    log.info("invite_accepted", account_id=user.account_id, user_id=user.id, role=user.role)
    return user


async def _member(session: AsyncSession, account_id: str, user_id: str) -> User:
    user = await repository.account_user(session, account_id, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


async def _keep_an_owner(session: AsyncSession, account_id: str, user: User) -> None:
    if (
        user.role == Role.OWNER
        and await repository.count_role(session, account_id, Role.OWNER) <= 1
    ):
        raise LastOwner("An account keeps at least one owner: make someone else an owner first")


async def change_role(session: AsyncSession, account_id: str, user_id: str, role: Role) -> None:
    """A member becomes an owner or the other way round. A demoted owner's own keys
    (those their logins made) are lowered to what a member's login gets, and any agent
    connected with one is closed (an owner connects computers)."""
    await repository.lock_account(session, account_id)
    user = await _member(session, account_id, user_id)
    if user.role == role:
        return
    if role is Role.MEMBER:
        await _keep_an_owner(session, account_id, user)
        capped = LOGIN_KEY_PERMISSION[Role.MEMBER]
        key_ids = await repository.live_keys_of_user(session, user.id, [Permission.FULL.value])
        if key_ids:
            await repository.set_key_permission(session, key_ids, capped.value)
            for key_id in key_ids:  # forgotten by every instance's key cache, too
                effects.key_revoked(session, key_id)
    await repository.set_role(session, user.id, role.value)
    log.info("role_changed", account_id=account_id, user_id=user_id, role=role.value)


async def remove(session: AsyncSession, account_id: str, user_id: str) -> None:
    """The user is gone: their sessions end at once and the keys their logins made are
    revoked (closing the agent connections those keys opened)."""
    await repository.lock_account(session, account_id)
    user = await _member(session, account_id, user_id)
    await _keep_an_owner(session, account_id, user)
    key_ids = await repository.live_keys_of_user(session, user.id)
    await repository.revoke_keys(session, key_ids, utcnow())
    for key_id in key_ids:
        effects.key_revoked(session, key_id)
    await repository.delete_user(session, user.id)
    log.info("user_removed", account_id=account_id, user_id=user_id, keys_revoked=len(key_ids))


async def reset_link(session: AsyncSession, user: User) -> Link:
    """A password-reset link for ``user`` (mailed to them, or handed on by an owner)."""
    link = await _make_link(
        session,
        Purpose.RESET,
        account_id=user.account_id,
        email=user.email,
        role=Role(user.role),
        user_id=user.id,
    )
    log.info("password_reset_link_made", account_id=user.account_id, user_id=user.id)
    return link


async def reset_link_for(session: AsyncSession, account_id: str, user_id: str) -> Link:
    return await reset_link(session, await _member(session, account_id, user_id))


async def reset_link_by_email(session: AsyncSession, email: str) -> Link | None:
    """A reset link for the user with ``email``; None when there is none (the caller
    answers the same either way)."""
    user = await repository.user_by_email(session, normalize_email(email))
    return await reset_link(session, user) if user is not None else None


async def reset_password(session: AsyncSession, token: str, new_password: str) -> User:
    """The link's user gets ``new_password``; the link, the user's other reset links and
    every session of the user end."""
    reason = passwords.weakness(new_password)
    if reason:  # before the link is used, so that a second try can follow
        raise BadRequest(f"password: {reason}")
    row = await _use(session, token, Purpose.RESET)
    assert row.user_id is not None  # a reset link is made for a user
    user = await repository.user_by_id(session, row.user_id)
    if user is None:
        raise LinkNotUsable("This link was used already, has expired, or does not exist")
    await repository.set_password_hash(
        session, user.id, await passwords.hash_password(new_password)
    )
    now: datetime = utcnow()
    await repository.use_tokens_of(session, user.id, Purpose.RESET, now)
    await repository.delete_sessions(session, user.id)
    log.info("password_reset", account_id=user.account_id, user_id=user.id)
    return user
