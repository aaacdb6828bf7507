"""Fixtures: a migrated database per backend per run, an app, a client, accounts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from printcloud.server.accounts import service as accounts
from printcloud.server.accounts.passwords import hash_password
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.db.migrate import upgrade
from printcloud.server.db.models import Account, Base, Computer, Printer, User
from printcloud.server.db.types import utcnow
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests import services
from tests.live import LiveServer, serve

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def tmp_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("printcloud-data")


@pytest.fixture(scope="session")
async def sqlite_url(tmp_data_dir: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_data_dir / 'test.db'}"
    runtime = Runtime.create(Settings(data_dir=tmp_data_dir, database_url=url))
    await upgrade(runtime.engine)
    await runtime.close()
    return url


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A database of its own for this test run, dropped at the end."""
    if not services.reachable(services.POSTGRES_HOST, services.POSTGRES_PORT):
        services.unavailable("PostgreSQL", f"{services.POSTGRES_HOST}:{services.POSTGRES_PORT}")
    name = f"printcloud_test_{secrets.token_hex(6)}"
    admin_dsn = (
        make_url(services.postgres_url(services.POSTGRES_ADMIN_DB))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = services.postgres_url(name)
        runtime = Runtime.create(Settings(database_url=url))
        await upgrade(runtime.engine)
        await runtime.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = make_url(services.REDIS_URL.replace("redis://", "redis+x://", 1))
    if not services.reachable(url.host or "127.0.0.1", url.port or 6379):
        services.unavailable("Redis", services.REDIS_URL)
    return services.REDIS_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def settings_factory(database_url: str, tmp_data_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_data_dir,
            "database_url": database_url,
            # Tests send many requests a second; the rate-limit tests set their own rate.
            "rate_limit": "100000/s",
            "allow_private_urls": False,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
async def runtime_factory(
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Runtime]]:
    """Runtimes on the test database; its tables are emptied after the test."""
    made: list[Runtime] = []

    def make(**overrides: Any) -> Runtime:
        runtime = Runtime.create(settings_factory(**overrides))
        made.append(runtime)
        return runtime

    yield make
    if made:
        await empty_tables(made[0])
    for runtime in made:
        await runtime.close()


async def empty_tables(runtime: Runtime) -> None:
    async with runtime.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
def runtime(runtime_factory: Callable[..., Runtime]) -> Runtime:
    return runtime_factory()


def client_for(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, **kwargs), base_url="http://testserver"
    )


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


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


@pytest.fixture
async def account(runtime: Runtime) -> TestAccount:
    return await make_account(runtime)


@pytest.fixture
async def other_account(runtime: Runtime) -> TestAccount:
    return await make_account(runtime)


@pytest.fixture
async def printer_id(runtime: Runtime, account: TestAccount) -> str:
    computer = await account.add_computer(runtime)
    async with runtime.sessionmaker() as session:
        found = await session.scalar(select(Printer.id).where(Printer.computer_id == computer.id))
        assert found is not None
        return found


@pytest.fixture
async def live(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """PrintCloud under uvicorn on a real socket, with quick sweeps and short limits."""
    runtime = runtime_factory(
        sweep_interval=0.2, ws_auth_timeout=1.0, ws_max_message_size=64 * 1024
    )
    async with serve(runtime) as server:
        yield server


@pytest.fixture
async def http(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the live server."""
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture
async def owner(live: LiveServer) -> TestAccount:
    """An account on the live server."""
    return await make_account(live.runtime)
