"""``printcloud agent ...`` as an office admin runs it, against a real server process."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from printcloud.agent import exit_codes
from printcloud.server.runtime import Runtime
from tests.helpers.server_process import PRINTCLOUD, ServerProcess, run_printcloud

PASSWORD = "your_password"


@pytest.fixture
def env(tmp_path: Path, database_url: str, runtime: Runtime) -> dict[str, str]:
    # ``runtime`` empties the test database's tables after the test.
    return {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path / "server"),
        "PRINTCLOUD_DATABASE_URL": database_url,
        "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "agent" / "agent.json"),
        "PRINTCLOUD_SWEEP_INTERVAL": "0.5",
    }


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    process = ServerProcess(env, tmp_path / "serve.log")
    try:
        process.wait_ready()
        created = run_printcloud(
            env, "users", "create", "--email", "user@example.com", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        yield process.url
    finally:
        process.stop()


def test_login_stores_the_key_privately_and_never_prints_it(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    result = run_printcloud(
        env,
        "agent",
        "login",
        "--server",
        server,
        "--email",
        "user@example.com",
        "--password",
        PASSWORD,
        "--name",
        "Front-Desk",
    )
    assert result.returncode == 0, result.stderr
    path = Path(env["PRINTCLOUD_AGENT_CONFIG"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["server"] == server
    assert saved["name"] == "Front-Desk"
    assert saved["api_key"].startswith("pk_live_")
    assert saved["api_key"] not in result.stdout + result.stderr

    status = run_printcloud(env, "agent", "status")
    assert status.returncode == 0, status.stderr
    assert saved["api_key"] not in status.stdout
    assert "never connected" in status.stdout


def _login(env: dict[str, str], server: str, *extra: str) -> dict[str, str]:
    """``agent login`` with the test user's password; the configuration it saved."""
    result = run_printcloud(
        env,
        "agent",
        "login",
        "--server",
        server,
        "--email",
        "user@example.com",
        "--password",
        PASSWORD,
        *extra,
    )
    assert result.returncode == 0, result.stderr
    saved: dict[str, str] = json.loads(Path(env["PRINTCLOUD_AGENT_CONFIG"]).read_text())
    return saved


def test_login_gives_the_computer_a_machine_id_that_a_new_login_keeps(
    env: dict[str, str], server: str
) -> None:
    first = _login(env, server)
    machine_id = first["machine_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", machine_id)

    again = _login(env, server, "--name", "Renamed-PC")
    assert again["machine_id"] == machine_id
    assert again["api_key"] != first["api_key"]  # a new key, the same machine

    status = run_printcloud(env, "agent", "status")
    assert status.returncode == 0, status.stderr
    assert machine_id in status.stdout


def test_run_gives_a_configuration_from_before_machine_ids_one(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    path = Path(env["PRINTCLOUD_AGENT_CONFIG"])
    saved = _login(env, server)
    del saved["machine_id"]  # as written by an agent of before
    path.write_text(json.dumps(saved))
    log = tmp_path / "agent.log"
    agent = subprocess.Popen(
        [*PRINTCLOUD, "agent", "run", "--no-cups", "--log-file", str(log)], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while '"connected"' not in (log.read_text() if log.exists() else ""):
            assert agent.poll() is None, log.read_text() if log.exists() else "no log"
            assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
            time.sleep(0.2)  # the agent process connects: its log tells when
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    stored = json.loads(path.read_text())
    assert stored == {**saved, "machine_id": stored["machine_id"]}
    events = [json.loads(line) for line in log.read_text().splitlines()]
    [created] = [e for e in events if e["event"] == "machine_id_created"]
    assert created["machine_id"] == stored["machine_id"]


def test_login_with_a_wrong_password_or_key_says_why(env: dict[str, str], server: str) -> None:
    wrong = run_printcloud(
        env,
        "agent",
        "login",
        "--server",
        server,
        "--email",
        "user@example.com",
        "--password",
        "not it",
    )
    assert wrong.returncode == 1
    assert "Invalid e-mail or password" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    bad_key = run_printcloud(env, "agent", "login", "--server", server, "--api-key", "pk_live_nope")
    assert bad_key.returncode == 1
    assert "Invalid API key" in bad_key.stderr
    nowhere = run_printcloud(
        env, "agent", "login", "--server", "http://127.0.0.1:9", "--api-key", "x"
    )
    assert nowhere.returncode == 1
    assert "cannot reach" in nowhere.stderr
    assert not Path(env["PRINTCLOUD_AGENT_CONFIG"]).exists()


def test_run_prints_on_a_folder_printer_and_drains_on_sigterm(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    assert (
        run_printcloud(
            env,
            "agent",
            "login",
            "--server",
            server,
            "--email",
            "user@example.com",
            "--password",
            PASSWORD,
        ).returncode
        == 0
    )
    out = tmp_path / "paper"
    log = tmp_path / "agent.log"
    agent = subprocess.Popen(
        [
            *PRINTCLOUD,
            "agent",
            "run",
            "--no-cups",
            "--folder",
            f"Demo={out}",
            "--log-file",
            str(log),
        ],
        env=env,
    )
    try:
        key = httpx.post(
            f"{server}/api/client/login", json={"email": "user@example.com", "password": PASSWORD}
        ).json()["apiKey"]
        deadline = time.monotonic() + 30
        while not (printers := httpx.get(f"{server}/api/printers", auth=(key, "")).json()):
            assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
            time.sleep(0.2)  # the agent process reports its printers: the API tells when
        job = httpx.post(
            f"{server}/api/printjobs",
            auth=(key, ""),
            json={
                "printerId": printers[0]["id"],
                "contentType": "raw_base64",
                "content": "SGVsbG8gZnJvbSBQcmludENsb3VkCg==",
            },
        ).json()
        while not (out / f"{job}.bin").exists():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)  # the agent process prints: the folder tells when
        assert (out / f"{job}.bin").read_bytes() == b"Hello from PrintCloud\n"
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = [line["event"] for line in lines]
    assert "connected" in events
    assert "stopping" in events
    agent_key = json.loads(Path(env["PRINTCLOUD_AGENT_CONFIG"]).read_text())["api_key"]
    assert agent_key not in log.read_text()


def test_a_key_that_cannot_connect_a_computer_is_refused_at_login_and_run_is_fatal(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    full = httpx.post(
        f"{server}/api/client/login", json={"email": "user@example.com", "password": PASSWORD}
    ).json()["apiKey"]
    for permission in ("print_only", "read_only"):
        key = httpx.post(
            f"{server}/api/account/apikeys",
            auth=(full, ""),
            json={"description": "shop", "permission": permission},
        ).json()["key"]
        refused = run_printcloud(env, "agent", "login", "--server", server, "--api-key", key)
        assert refused.returncode == 1
        assert f"this API key is {permission}: the agent needs a full key" in refused.stderr
        assert not Path(env["PRINTCLOUD_AGENT_CONFIG"]).exists()

    accepted = run_printcloud(env, "agent", "login", "--server", server, "--api-key", full)
    assert accepted.returncode == 0, accepted.stderr

    # a key the server refuses at run (here written into the file by hand): a fatal
    # exit, which the systemd unit does not restart
    path = Path(env["PRINTCLOUD_AGENT_CONFIG"])
    path.write_text(json.dumps({**json.loads(path.read_text()), "api_key": key}))
    ran = run_printcloud(env, "agent", "run", "--no-cups", timeout=60)
    assert ran.returncode == exit_codes.FATAL, ran.stderr
    assert "refused the API key" in ran.stderr


def test_login_names_its_key_after_the_computer(env: dict[str, str], server: str) -> None:
    saved = _login(env, server, "--name", "Front-Desk")

    listed = httpx.get(f"{server}/api/account/apikeys", auth=(saved["api_key"], ""), timeout=30)
    assert listed.status_code == 200
    [key] = [k for k in listed.json() if saved["api_key"].startswith(k["prefix"])]
    assert key["description"] == "Agent on Front-Desk"
