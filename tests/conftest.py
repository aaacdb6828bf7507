"""Fixtures: a migrated database per backend per run, an app, a client, accounts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url

from printcloud.server.app import create_app
from printcloud.server.db.database import Database
from printcloud.server.db.models import Printer
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers import services
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.database import empty_tables
from tests.helpers.live_server import LiveServer, serve


@pytest.fixture(scope="session")
def tmp_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("printcloud-data")


async def migrated(url: str) -> None:
    """The database at ``url`` with every migration applied: a Database alone, nothing
    of a server's runtime."""
    database = Database.open(url)
    try:
        await database.migrate()
    finally:
        await database.close()


@pytest.fixture(scope="session")
async def sqlite_url(tmp_data_dir: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_data_dir / 'test.db'}"
    await migrated(url)
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
    try:
        admin = await asyncpg.connect(admin_dsn)
    except (asyncpg.PostgresError, OSError) as exc:  # no such role or database, a password
        services.unusable("PostgreSQL", services.POSTGRES_SETTINGS, exc)
    try:
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.InsufficientPrivilegeError as exc:
            services.unusable("PostgreSQL", services.POSTGRES_SETTINGS, exc)
        url = services.postgres_url(name)
        await migrated(url)
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
async def database(database_url: str) -> AsyncIterator[Database]:
    """The migrated test database alone: no runtime, no workers. Its rows are the
    test's to clean up."""
    database = Database.open(database_url)
    yield database
    await database.close()


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
        await empty_tables(made[0].database)
    for runtime in made:
        await runtime.close()


@pytest.fixture
def runtime(runtime_factory: Callable[..., Runtime]) -> Runtime:
    return runtime_factory()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


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
