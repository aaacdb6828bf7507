"""The real PostgreSQL and Redis of these machines, and what to do when they are away.

Locally a missing service skips its tests with the reason; under ``.ci/run``
(``PRINTCLOUD_TEST_REQUIRE_SERVICES=1``) a missing service fails the run.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

POSTGRES_HOST = os.environ.get("PRINTCLOUD_TEST_PG_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("PRINTCLOUD_TEST_PG_PORT", "5432"))
POSTGRES_ADMIN_DB = os.environ.get("PRINTCLOUD_TEST_PG_DB", "test")
REDIS_URL = os.environ.get("PRINTCLOUD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("PRINTCLOUD_TEST_REQUIRE_SERVICES") == "1"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unavailable(name: str, where: str) -> None:
    message = f"{name} is not reachable at {where}"
    if REQUIRED:
        pytest.fail(f"{message}, and PRINTCLOUD_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f"{message}: its tests are skipped")


POSTGRES_SETTINGS = (
    "PRINTCLOUD_TEST_PG_HOST, _PORT, _USER (a role that may create databases) and _DB"
    " (one it may connect to); see the README's Development section"
)


def unusable(name: str, settings: str, exc: BaseException) -> NoReturn:
    """Reachable, but not usable as configured (no such role, no such database)."""
    message = f"{name} refused the tests ({type(exc).__name__}: {exc}); set {settings}"
    if REQUIRED:
        pytest.fail(f"{message}, and PRINTCLOUD_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f"{message}: its tests are skipped")


def postgres_url(database: str) -> str:
    user = os.environ.get("PRINTCLOUD_TEST_PG_USER", "root")
    return f"postgresql+asyncpg://{user}@{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"
