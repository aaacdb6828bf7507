"""The commands a newcomer types, run as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from printcloud.server.runtime import Runtime
from tests.helpers.server_process import (
    PRINTCLOUD,
    ServerProcess,
    client_login,
    create_user,
    run_printcloud,
)
from tests.helpers.webhooks import webhook_receiver_thread


@pytest.fixture
def env(tmp_path: Path, database_url: str, runtime: Runtime) -> dict[str, str]:
    # ``runtime`` empties the test database's tables after the test.
    return {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_DATABASE_URL": database_url,
    }


def test_users_create_then_duplicate_and_weak_passwords(env: dict[str, str]) -> None:
    created = run_printcloud(
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
    assert "the owner of the new account acc_" in created.stdout

    duplicate = run_printcloud(
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
        weak = run_printcloud(
            env, "users", "create", "--email", "new@example.com", "--password", password
        )
        assert weak.returncode == 1
        assert reason in weak.stderr
        assert "Traceback" not in weak.stderr

    bad_email = run_printcloud(
        env, "users", "create", "--email", "not-an-email", "--password", "s3cret-ok!"
    )
    assert bad_email.returncode == 1
    assert "not a valid e-mail" in bad_email.stderr


def test_bad_setting_is_one_clear_line(env: dict[str, str]) -> None:
    result = run_printcloud(
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
        run_printcloud(
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


def test_worker_delivers_webhooks_and_stops_on_sigterm(env: dict[str, str], tmp_path: Path) -> None:
    env = env | {"PRINTCLOUD_ALLOW_PRIVATE_URLS": "true", "PRINTCLOUD_WEBHOOK_POLL_INTERVAL": "0.1"}
    with webhook_receiver_thread() as receiver:
        server = ServerProcess(env | {"PRINTCLOUD_RUN_WEBHOOK_WORKER": "false"}, tmp_path / "s.log")
        try:
            server.wait_ready()
            create_user(env, "w@example.com")
            key = client_login(server.url, "w@example.com")
            webhook = httpx.post(
                f"{server.url}/api/webhooks",
                auth=(key, ""),
                json={"url": f"{receiver.url}/hook", "events": ["all"]},
            )
            assert webhook.status_code == 201
            # A computer connecting is an event: the webhook gets a computer.connected.
            with connect(server.ws_url) as socket:
                socket.send(json.dumps({"type": "auth", "apiKey": key, "computerName": "PC"}))
                assert json.loads(socket.recv(timeout=10))["type"] == "auth_ok"
            deliveries = httpx.get(
                f"{server.url}/api/webhooks/{webhook.json()['id']}/deliveries", auth=(key, "")
            ).json()
        finally:
            server.stop()
        # The server itself does not deliver, its worker being off: no attempt was made.
        assert deliveries
        assert {(d["status"], len(d["attempts"])) for d in deliveries} == {("pending", 0)}
        assert receiver.received == []

        with subprocess.Popen([*PRINTCLOUD, "worker"], env=env) as worker:
            deadline = time.monotonic() + 30
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.1)  # another process delivers: only the receiver tells when
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
    assert receiver.received, "the worker delivered nothing"
    assert json.loads(receiver.received[0])["type"] == "computer.connected"


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads Linux's /proc")
def test_serve_takes_the_hard_open_file_limit_for_its_sockets(
    env: dict[str, str], tmp_path: Path
) -> None:
    import resource  # noqa: PLC0415 - POSIX only, like the test

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 512:
        pytest.fail(f"this machine's hard limit ({hard}) leaves nothing to raise")
    # The server inherits a low soft limit, as from a default login shell.
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    try:
        server = ServerProcess(env, tmp_path / "serve.log")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        server.wait_ready()
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    finally:
        server.stop()
    line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
    server_soft, server_hard = line.split()[3:5]
    assert server_soft == server_hard != "512"
