"""The office admin's way in: the installer fetched from a running server installs the
agent into a private venv, logs it in, and the installed agent prints on the print rig.

One test, as the admin would go: it makes a real venv and pip installs the agent's
dependencies from the configured index, so it takes a while (half a minute to a minute).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shlex
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import FINAL_STATES
from tests.helpers.live_server import LiveServer
from tests.helpers.printrig import PrintRig, sink_file_with, unique_title
from tests.helpers.systemd import systemd_verify
from tests.helpers.waiting import eventually

# The server's libraries: none of them may be in an agent's venv.
SERVER_ONLY = ["fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "asyncpg"]
NOT_INSTALLED = "the server is not installed here: pip install 'printcloud[server]'"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The agent's install does not depend on the server's database: one is enough."""
    return sqlite_url


@pytest.fixture
def admin_env(tmp_path: Path, printrig: PrintRig) -> dict[str, str]:
    """The admin's shell: the rig's CUPS, and a home of its own, where the agent's data
    goes (the pip configuration of this machine, its package index, is kept)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PRINTCLOUD_", "VIRTUAL_ENV", "XDG_"))
    }
    return {**env, "HOME": str(home), "CUPS_SERVER": printrig.cups_server}


async def run(
    *args: str | Path, env: dict[str, str], stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout)
    assert process.returncode is not None
    return subprocess.CompletedProcess(
        [str(a) for a in args], process.returncode, stdout.decode(), stderr.decode()
    )


@pytest.fixture
async def agent_process(tmp_path: Path) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Where the test puts the agent it starts; stopped afterwards, whatever happened."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_installer_from_the_server_installs_a_lean_agent_that_prints(
    live: LiveServer,
    http: httpx.AsyncClient,
    owner: TestAccount,
    printrig: PrintRig,
    admin_env: dict[str, str],
    tmp_path: Path,
    agent_process: list[asyncio.subprocess.Process],
) -> None:
    script = await http.get("/install/agent.sh")
    assert script.status_code == 200
    prefix = tmp_path / "printcloud-agent"
    api_key = owner.auth()[0]

    # curl -fsSL SERVER/install/agent.sh | sh -s -- ...
    installer = ("sh", "-s", "--", "--prefix", str(prefix), "--no-service")
    installed = await run(
        *installer,
        "--api-key",
        api_key,
        "--name",
        "Reception-PC",
        env=admin_env,
        stdin=script.content,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"Logged in to {live.url} as computer 'Reception-PC'" in installed.stdout
    assert api_key not in installed.stdout + installed.stderr
    venv = prefix / "venv"
    printcloud = venv / "bin" / "printcloud"
    config = prefix / "agent.json"
    assert json.loads(config.read_text())["server"] == live.url
    assert json.loads(config.read_text())["data_dir"] == str(prefix / "data")
    assert config.stat().st_mode & 0o777 == 0o600  # it holds the API key

    # Lean: the SDK, the CLI and the agent, not the server.
    listed = await run(venv / "bin" / "python", "-m", "pip", "list", "--format=json", env=admin_env)
    installed_names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert {"printcloud", "httpx", "websockets", "typer"} <= installed_names
    assert installed_names & set(SERVER_ONLY) == set()
    assert "pillow" not in installed_names
    assert "pypdfium2" not in installed_names
    importable = await run(
        venv / "bin" / "python",
        "-c",
        "import importlib.util, sys; "
        "print([m for m in sys.argv[1:] if importlib.util.find_spec(m)])",
        *SERVER_ONLY,
        env=admin_env,
    )
    assert importable.stdout == "[]\n", importable.stderr
    for command in (
        ["serve"],
        ["worker"],
        ["users", "create", "--email", "a@b.co", "--password", "x" * 8],
    ):
        refused = await run(printcloud, *command, env=admin_env)
        assert refused.returncode == 1, command
        assert NOT_INSTALLED in refused.stderr, command
        assert "Traceback" not in refused.stderr, command
    assert (await run(printcloud, "agent", "--help", env=admin_env)).returncode == 0

    # The installed agent sees the rig's queues, through CUPS.
    printers = await run(
        printcloud, "agent", "printers", "--json", "--config", config, env=admin_env
    )
    assert printers.returncode == 0, printers.stderr
    assert {"PDFQ", "ZPLQ"} <= {p["name"] for p in json.loads(printers.stdout)}

    # Running again (an upgrade, say) keeps the venv and the login; this time it sets up
    # the service, its files written under a root of the test's own (nothing started).
    service_root = tmp_path / "root"
    again = await run(
        "sh",
        "-s",
        "--",
        "--prefix",
        str(prefix),
        "--service-root",
        str(service_root),
        env=admin_env,
        stdin=script.content,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"keeping the login in {config}" in again.stdout
    [unit] = service_root.rglob("printcloud-agent.service")
    assert systemd_verify(unit, user=os.getuid() != 0) == ""
    [exec_start] = [
        line.removeprefix("ExecStart=")
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    service_command = shlex.split(exec_start)
    assert Path(service_command[0]).parent == venv / "bin"
    assert service_command[1:] == ["-m", "printcloud", "agent", "run", "--config", str(config)]

    # And it prints, end to end: API, server, the installed agent, CUPS, the printer.
    log = (tmp_path / "agent.log").open("wb")
    # The service's own command line, as systemd would start it.
    process = await asyncio.create_subprocess_exec(
        *service_command,
        "--printers",
        "ZPLQ",
        env=admin_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    agent_process.append(process)
    zplq = await printer_named(http, owner, "ZPLQ")
    label = f"^XA^FO50,50^FD{secrets.token_hex(8)}^FS^XZ".encode()
    response = await http.post(
        "/api/printjobs",
        auth=owner.auth(),
        json={
            "printerId": zplq,
            "contentType": "raw_base64",
            "content": base64.b64encode(label).decode(),
            "title": unique_title("installed"),
        },
    )
    assert response.status_code == 201, response.text
    job = await final(http, owner, str(response.json()))
    assert job["state"] == "completed", (tmp_path / "agent.log").read_text()
    assert await sink_file_with(printrig, label) == label
    # Its journal is in the prefix, not in the home of whoever ran the installer.
    assert (prefix / "data" / "journal.sqlite3").is_file()
    assert not (Path(admin_env["HOME"]) / ".local" / "share" / "printcloud").exists()

    process.send_signal(signal.SIGINT)  # drains, then exits
    assert await asyncio.wait_for(process.wait(), 30) == 0, (tmp_path / "agent.log").read_text()
    log.close()


async def printer_named(http: httpx.AsyncClient, owner: TestAccount, name: str) -> str:
    """The printer's id once the agent, a process that has just started, reports it."""

    async def find() -> str | None:
        printers = (await http.get("/api/printers", auth=owner.auth())).json()
        return next((p["id"] for p in printers if p["name"] == name), None)

    found: str = await eventually(find, timeout=60)
    return found


async def final(http: httpx.AsyncClient, owner: TestAccount, job_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        [job] = (await http.get(f"/api/printjobs/{job_id}", auth=owner.auth())).json()
        return job if job["state"] in FINAL_STATES else None

    found: dict[str, Any] = await eventually(done, timeout=60)
    return found
