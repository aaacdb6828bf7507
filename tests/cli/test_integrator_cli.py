"""``printcloud printers|computers|jobs|job|print|keys|webhooks`` against a server process."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from printcloud.server.runtime import Runtime
from tests.helpers.documents import PDF
from tests.helpers.server_process import PRINTCLOUD, ServerProcess, client_login, create_user


@pytest.fixture
def server(tmp_path: Path, database_url: str, runtime: Runtime) -> Iterator[tuple[str, str]]:
    """A server and a full API key of a new account."""
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_LOG_LEVEL": "warning",
        "PRINTCLOUD_DATABASE_URL": database_url,
    }
    process = ServerProcess(env, tmp_path / "serve.log")
    try:
        process.wait_ready()
        create_user(env, "i@example.com")
        key = client_login(process.url, "i@example.com")
        yield process.url, key
    finally:
        process.stop()


def cli(
    server: tuple[str, str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    url, key = server
    env = {**os.environ, "PRINTCLOUD_URL": url, "PRINTCLOUD_API_KEY": key, **(env or {})}
    return subprocess.run(
        [*PRINTCLOUD, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def agent(server: tuple[str, str], outcome: str, ready: threading.Event) -> None:
    """A computer with one printer that reports each job it gets as ``outcome``."""
    url, key = server
    with connect(url.replace("http://", "ws://") + "/ws") as socket:
        socket.send(json.dumps({"type": "auth", "apiKey": key, "computerName": "CLI-PC"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "auth_ok"
        socket.send(json.dumps({"type": "printers", "printers": [{"name": "HP"}]}))
        assert json.loads(socket.recv(timeout=10))["type"] == "printers_ok"
        ready.set()
        job = json.loads(socket.recv(timeout=60))["job"]
        socket.send(json.dumps({"type": "job_state", "jobId": job["id"], "state": "printing"}))
        socket.send(
            json.dumps(
                {
                    "type": "job_state",
                    "jobId": job["id"],
                    "state": outcome,
                    "message": "Paper jam" if outcome == "error" else "Printed",
                }
            )
        )


@pytest.mark.parametrize(("outcome", "exit_code"), [("completed", 0), ("error", 1)])
def test_print_wait_follows_the_job_to_its_end(
    server: tuple[str, str], tmp_path: Path, outcome: str, exit_code: int
) -> None:
    ready = threading.Event()
    thread = threading.Thread(target=agent, args=(server, outcome, ready), daemon=True)
    thread.start()
    assert ready.wait(15)
    printers = json.loads(cli(server, "printers", "--json").stdout)
    document = tmp_path / "invoice.pdf"
    document.write_bytes(PDF)

    result = cli(
        server,
        "print",
        str(document),
        "--printer",
        printers[0]["id"],
        "--copies",
        "2",
        "--duplex",
        "long-edge",
        "--wait",
        "--timeout",
        "30",
    )
    thread.join(10)

    assert result.returncode == exit_code, result.stderr
    assert outcome in result.stdout
    if outcome == "error":
        assert "Paper jam" in result.stdout
    job_id = result.stdout.split(":")[0].strip()
    shown = cli(server, "job", job_id)
    assert shown.returncode == 0
    assert "printing" in shown.stdout
    history = json.loads(cli(server, "jobs", "--json").stdout)
    assert history[0]["id"] == job_id
    assert history[0]["options"] == {"copies": 2, "duplex": "long-edge"}


def test_listing_commands_print_tables_and_json(server: tuple[str, str]) -> None:
    for command in ("printers", "computers", "jobs", "keys", "webhooks"):
        table = cli(server, command)
        assert table.returncode == 0, (command, table.stderr)
        as_json = cli(server, command, "--json")
        assert as_json.returncode == 0
        assert isinstance(json.loads(as_json.stdout), list)
    keys = json.loads(cli(server, "keys", "--json").stdout)
    assert keys[0]["permission"] == "full"
    assert server[1] not in cli(server, "keys").stdout


def test_errors_are_one_line_with_a_non_zero_exit(server: tuple[str, str]) -> None:
    missing = cli(server, "job", "pj_doesnotexist")
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("error:")
    assert "NotFound" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_key = subprocess.run(
        [*PRINTCLOUD, "printers"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PRINTCLOUD_URL": server[0], "PRINTCLOUD_API_KEY": "pk_live_nope"},
    )
    assert bad_key.returncode == 1
    assert "Invalid API key" in bad_key.stderr
    no_file = cli(server, "print", "/nonexistent.pdf", "--printer", "prn_x")
    assert no_file.returncode == 1
    assert "Traceback" not in no_file.stderr


def test_a_printer_by_name_a_title_from_the_file_and_ids_never_cut(
    server: tuple[str, str], tmp_path: Path
) -> None:
    ready = threading.Event()
    thread = threading.Thread(target=agent, args=(server, "completed", ready), daemon=True)
    thread.start()
    assert ready.wait(15)
    document = tmp_path / "invoice-456.pdf"
    document.write_bytes(PDF)

    printed = cli(server, "print", str(document), "--printer", "hp", "--wait", "--timeout", "30")
    thread.join(10)
    assert printed.returncode == 0, printed.stderr
    job_id = printed.stdout.split(":")[0].strip()
    [shown] = json.loads(cli(server, "jobs", "--json").stdout)
    assert (shown["id"], shown["title"]) == (job_id, "invoice-456.pdf")

    # An 80-column terminal: every id whole, so that it can be copied into `job`.
    narrow = {"COLUMNS": "80"}
    assert job_id in cli(server, "jobs", env=narrow).stdout
    printers = json.loads(cli(server, "printers", "--json").stdout)
    table = cli(server, "printers", env=narrow).stdout
    assert printers[0]["id"] in table
    assert printers[0]["computerId"] in table
    keys = json.loads(cli(server, "keys", "--json").stdout)
    assert all(key["id"] in cli(server, "keys", env=narrow).stdout for key in keys)

    unknown = cli(server, "print", str(document), "--printer", "Canon")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: no printer named 'Canon'; the account's printers: 'HP'"
