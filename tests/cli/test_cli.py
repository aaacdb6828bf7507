"""The commands a newcomer types, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from printcloud.server.runtime import Runtime
from tests.live import ServerProcess

EXE = [sys.executable, "-m", "printcloud"]


@pytest.fixture
def env(tmp_path: Path, database_url: str, runtime: Runtime) -> dict[str, str]:
    # ``runtime`` empties the test database's tables after the test.
    return {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_DATABASE_URL": database_url,
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_users_create_then_duplicate_and_weak_passwords(env: dict[str, str]) -> None:
    created = run(
        env,
        "users",
        "create",
        "--email",
        "Owner@Example.com",
        "--password",
        "s3cret-enough",
        "--first-name",
        "Dana",
    )
    assert created.returncode == 0, created.stderr
    assert "owner@example.com" in created.stdout

    duplicate = run(
        env, "users", "create", "--email", "owner@example.com", "--password", "another-s3cret"
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr

    for password, reason in [
        ("", "must not be empty"),
        ("short", "at least 8"),
        ("password", "too easy"),
    ]:
        weak = run(env, "users", "create", "--email", "new@example.com", "--password", password)
        assert weak.returncode == 1
        assert reason in weak.stderr
        assert "Traceback" not in weak.stderr

    bad_email = run(env, "users", "create", "--email", "not-an-email", "--password", "s3cret-ok!")
    assert bad_email.returncode == 1
    assert "not a valid e-mail" in bad_email.stderr


def test_bad_setting_is_one_clear_line(env: dict[str, str]) -> None:
    result = run(
        env | {"PRINTCLOUD_RATE_LIMIT": "lots"},
        "users",
        "create",
        "--email",
        "a@example.com",
        "--password",
        "s3cret-enough",
    )
    assert result.returncode == 1
    assert "rate_limit" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    process = ServerProcess(env, tmp_path / "serve.log")
    try:
        process.wait_ready()
        yield process.url
    finally:
        process.stop()


def test_newcomer_path_serve_create_user_login_list_printers(
    env: dict[str, str], server: str
) -> None:
    assert (
        run(
            env, "users", "create", "--email", "user@example.com", "--password", "your_password"
        ).returncode
        == 0
    )

    login = httpx.post(
        f"{server}/api/client/login",
        json={"email": "user@example.com", "password": "your_password"},
    )
    assert login.status_code == 200
    api_key = login.json()["apiKey"]
    # The original's curl line: curl -u "pk_live_...:" https://.../api/printers
    curl = subprocess.run(
        ["curl", "-s", "-u", f"{api_key}:", f"{server}/api/printers"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert curl.stdout == "[]"
    docs = httpx.get(f"{server}/api/docs")
    assert docs.status_code == 200
