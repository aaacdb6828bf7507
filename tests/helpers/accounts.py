"""Accounts with a user and one API key of each permission, and computers with printers,
written straight to the database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from printcloud.server.accounts import service as accounts
from printcloud.server.accounts.passwords import hash_password
from printcloud.server.accounts.permissions import Permission
from printcloud.server.db.models import Account, Computer, Printer, User
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime

# The password of every user that ``make_account`` makes.
PASSWORD = "correct horse battery"


@dataclass
class TestAccount:
    """An account with a user and one API key of each permission."""

    __test__ = False

    account_id: str
    user: User
    keys: dict[Permission, str] = field(default_factory=dict)

    def auth(self, permission: Permission = Permission.FULL) -> tuple[str, str]:
        return (self.keys[permission], "")

    async def add_computer(
        self,
        runtime: Runtime,
        name: str = "Office-PC",
        printers: tuple[str, ...] = ("HP LaserJet Pro",),
        state: str = "online",
    ) -> Computer:
        return await add_computer(runtime, self.account_id, name, printers, state)


_password_hash: str | None = None


async def make_account(runtime: Runtime, email: str | None = None) -> TestAccount:
    """Rows made directly, so that a test pays one argon2 hash per run, not per account."""
    global _password_hash  # noqa: PLW0603 - a per-run cache of one expensive hash
    if _password_hash is None:
        _password_hash = await hash_password(PASSWORD)
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    async with runtime.sessionmaker() as session:
        account = Account(id="acc_" + secrets.token_hex(8), created_at=utcnow())
        user = User(
            id="usr_" + secrets.token_hex(8),
            account_id=account.id,
            email=email,
            password_hash=_password_hash,
            first_name="John",
            last_name="Doe",
            created_at=utcnow(),
        )
        session.add(account)
        await session.flush()
        session.add(user)
        await session.flush()
        result = TestAccount(account.id, user)
        for permission in Permission:
            _, key = await accounts.create_api_key(
                session,
                account_id=account.id,
                description=f"test {permission}",
                permission=permission,
            )
            result.keys[permission] = key
        await session.commit()
    return result


async def add_computer(
    runtime: Runtime, account_id: str, name: str, printers: tuple[str, ...], state: str = "online"
) -> Computer:
    """What the agent's WebSocket reports, written directly."""
    async with runtime.sessionmaker() as session:
        computer = Computer(
            id="cmp_" + secrets.token_hex(8),
            account_id=account_id,
            name=name,
            os="Linux",
            client_version="1.0.0",
            state=state,
            last_seen_at=utcnow(),
            created_at=utcnow(),
        )
        session.add(computer)
        await session.flush()
        for index, printer_name in enumerate(printers):
            session.add(
                Printer(
                    id="prn_" + secrets.token_hex(8),
                    account_id=account_id,
                    computer_id=computer.id,
                    name=printer_name,
                    capabilities={
                        "color": True,
                        "duplex": True,
                        "media": ["A4", "Letter"],
                        "bins": ["Tray 1", "Manual"],
                    },
                    is_default=index == 0,
                    state="online",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
        await session.commit()
        await session.refresh(computer)
        return computer


async def add_user(
    runtime: Runtime, account: TestAccount, role: str, email: str | None = None
) -> User:
    """Another user of ``account`` (password ``PASSWORD``), written directly."""
    global _password_hash  # noqa: PLW0603 - the same per-run cache as make_account's
    if _password_hash is None:
        _password_hash = await hash_password(PASSWORD)
    async with runtime.sessionmaker() as session:
        user = User(
            id="usr_" + secrets.token_hex(8),
            account_id=account.account_id,
            email=email or f"{role}-{secrets.token_hex(4)}@example.com",
            password_hash=_password_hash,
            first_name="Mia",
            last_name="Member",
            created_at=utcnow(),
            role=role,
        )
        session.add(user)
        await session.commit()
        await session.refresh(user)
        return user
