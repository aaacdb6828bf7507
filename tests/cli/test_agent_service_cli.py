"""``printcloud agent install-service``, ``uninstall-service``, ``status`` and the exit codes
a service manager reads, run as an office admin runs them (no server needed)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from printcloud.agent import exit_codes
from tests.helpers.server_process import PRINTCLOUD, run_printcloud
from tests.helpers.systemd import systemd_verify


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        **{k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "unused.json"),
        "COLUMNS": "200",
    }


def write_config(path: Path, server: str = "http://127.0.0.1:9", **extra: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data_dir = path.parent / "data"
    config = {"server": server, "api_key": "pk_live_test", "data_dir": str(data_dir), **extra}
    path.write_text(json.dumps(config))
    return path


def test_install_service_writes_a_system_unit_systemd_accepts_and_uninstall_removes_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    # a space and a % in the path: both must reach the agent as they are
    config = write_config(tmp_path / "Print Cloud 100%" / "agent.json")
    root = tmp_path / "root"
    result = run_printcloud(
        env, "agent", "install-service", "--system", "--root", str(root), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    unit = root / "etc/systemd/system/printcloud-agent.service"
    assert str(unit) in result.stdout
    assert "nothing was started" in result.stdout
    assert systemd_verify(unit) == ""
    lines = unit.read_text().splitlines()
    quoted = f'"{str(config).replace("%", "%%")}"'
    assert f"ExecStart={sys.executable} -m printcloud agent run --config {quoted}" in lines
    assert f"RestartPreventExitStatus={exit_codes.FATAL}" in lines
    assert "Restart=on-failure" in lines
    assert "User=" not in unit.read_text()  # the configuration is root's: the unit runs as root
    assert f"ReadWritePaths=-{quoted.replace('agent.json', 'data')}" in lines

    removed = run_printcloud(env, "agent", "uninstall-service", "--system", "--root", str(root))
    assert removed.returncode == 0, removed.stderr
    assert "Removed" in removed.stdout
    assert not unit.exists()
    again = run_printcloud(env, "agent", "uninstall-service", "--system", "--root", str(root))
    assert again.returncode == 0, again.stderr
    assert "No system service of the agent was installed" in again.stdout


def test_install_service_user_writes_a_user_unit_in_the_home(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = write_config(tmp_path / "home/.config/printcloud/agent.json")
    root = tmp_path / "root"
    result = run_printcloud(
        env, "agent", "install-service", "--user", "--root", str(root), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    home = Path(env["HOME"])
    unit = root.joinpath(*home.parts[1:], ".config/systemd/user/printcloud-agent.service")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    assert systemd_verify(unit, user=True, runtime=runtime) == ""
    assert "WantedBy=default.target" in unit.read_text().splitlines()


def test_install_service_wants_a_configuration_first(env: dict[str, str], tmp_path: Path) -> None:
    result = run_printcloud(
        env,
        "agent",
        "install-service",
        "--root",
        str(tmp_path / "root"),
        "--config",
        str(tmp_path / "nowhere.json"),
    )
    assert result.returncode == 1
    assert "run `printcloud agent login` first" in result.stderr
    assert not (tmp_path / "root").exists()


def test_status_says_whether_the_service_is_installed(env: dict[str, str], tmp_path: Path) -> None:
    config = write_config(tmp_path / "agent.json")
    before = run_printcloud(env, "agent", "status", "--config", str(config))
    assert before.returncode == 0, before.stderr
    assert re.search(r"service\s+not installed", before.stdout), before.stdout

    # --root / writes the user unit where it belongs (under this test's HOME) and runs
    # no systemctl: there is no systemd to run here.
    installed = run_printcloud(
        env, "agent", "install-service", "--user", "--root", "/", "--config", str(config)
    )
    assert installed.returncode == 0, installed.stderr
    after = run_printcloud(env, "agent", "status", "--config", str(config))
    assert after.returncode == 0, after.stderr
    unit = Path(env["HOME"]) / ".config/systemd/user/printcloud-agent.service"
    assert f"user service (systemd, {unit}): " in after.stdout


def test_run_exits_with_the_fatal_code_when_it_cannot_work(
    env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.json"
    result = run_printcloud(env, "agent", "run", "--config", str(missing))
    assert result.returncode == exit_codes.FATAL, result.stderr
    assert "printcloud agent login" in result.stderr
    # launchd and Task Scheduler's services ask for 0, so as not to restart it
    quiet = run_printcloud(env, "agent", "run", "--config", str(missing), "--fatal-exit-code", "0")
    assert quiet.returncode == 0, quiet.stderr
    assert "printcloud agent login" in quiet.stderr
    # the Windows printers without pywin32: fatal too, in one line
    windows = write_config(tmp_path / "win.json", windows=True, cups=False)
    no_pywin32 = run_printcloud(env, "agent", "run", "--config", str(windows))
    assert no_pywin32.returncode == exit_codes.FATAL, no_pywin32.stderr
    assert "pywin32" in no_pywin32.stderr
    assert "Traceback" not in no_pywin32.stderr


def _first_lines(env: dict[str, str], config: Path, journal: bool, want: str) -> list[str]:
    """The stderr lines of `agent run` until one holds ``want``; with ``journal``, stderr
    is a pipe that JOURNAL_STREAM names, as systemd connects it to journald."""
    read_end, write_end = os.pipe()
    stat = os.fstat(write_end)
    run_env = {**env}
    if journal:
        run_env["JOURNAL_STREAM"] = f"{stat.st_dev}:{stat.st_ino}"
    agent = subprocess.Popen(
        [*PRINTCLOUD, "agent", "run", "--no-cups", "--config", str(config)],
        env=run_env,
        stderr=write_end,
    )
    os.close(write_end)
    lines: list[str] = []
    try:
        with os.fdopen(read_end) as stream:
            deadline = time.monotonic() + 30
            while not any(want in line for line in lines):
                assert time.monotonic() < deadline, lines
                line = stream.readline()  # the agent logs as it connects: its output tells
                assert line, lines
                lines.append(line.rstrip("\n"))
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
    return lines


def test_under_systemd_the_log_lines_carry_their_priority_for_journald(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = write_config(tmp_path / "agent.json")  # a server nobody answers at
    lines = _first_lines(env, config, journal=True, want="connection_lost")
    [connecting] = [line for line in lines if "connecting" in line]
    assert connecting.startswith("<6>")  # info
    assert not re.search(r"\d{4}-\d\d-\d\dT", connecting)  # journald stamps the time
    [lost] = [line for line in lines if "connection_lost" in line]
    assert lost.startswith("<4>")  # a warning: `journalctl -p warning` shows it

    # a terminal's (or any other stream's) lines: timestamped, no prefix
    plain = _first_lines(env, config, journal=False, want="connecting")
    [connecting] = [line for line in plain if "connecting" in line]
    assert not connecting.startswith("<")
    assert re.search(r"\d{4}-\d\d-\d\dT", connecting)
