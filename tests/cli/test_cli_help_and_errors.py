"""The CLI's rough edges, each as an office admin met it (issue 14): help texts that lost
their defaults, a server address without its scheme, a traceback from `agent printers`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from printcloud.cli import app
from tests.helpers.server_process import run_printcloud


def _options() -> list[tuple[str, str, str]]:
    """(command, option, help) of every option of every command."""
    found = []
    # typer builds on a click of its own (typer._click): read it by its attributes
    stack: list[tuple[str, Any]] = [("printcloud", typer.main.get_command(app))]
    while stack:
        name, command = stack.pop()
        stack += [(f"{name} {sub}", cmd) for sub, cmd in getattr(command, "commands", {}).items()]
        found += [
            (name, p.opts[0], p.help or "") for p in command.params if p.param_type_name == "option"
        ]
    return found


def test_no_help_text_writes_brackets_that_rich_would_swallow() -> None:
    # "[default: x]" written into a help text is rich markup: it vanishes from --help.
    options = _options()
    assert ("printcloud agent run", "--config", "The agent's configuration file") in options
    swallowed = [f"{name} {option}" for name, option, text in options if "[" in text]
    assert swallowed == []


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["agent", "run"], "[default: (the configuration's cups, else on, on Linux and macOS)]"),
        (["agent", "run"], "[default: 78]"),
        (["agent", "run"], "[default: info]"),
        (["agent", "login"], "[default: (this computer's hostname)]"),
        (["agent", "status"], "[default: (agent.json in the per-user config dir, or"),
        (["agent", "install-service"], "[default: (--system as root or an administrator, else"),
        (["serve"], "[default: (127.0.0.1, or $PRINTCLOUD_HOST)]"),
        (["serve"], "[default: (8080, or $PRINTCLOUD_PORT)]"),
    ],
)
def test_help_shows_the_defaults(command: list[str], shown: str) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert shown in result.output


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "agent.json")}


def test_a_server_without_its_scheme_is_one_clear_line(env: dict[str, str]) -> None:
    result = run_printcloud(
        env, "agent", "login", "--server", "127.0.0.1:8080", "--api-key", "pk_live_x"
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: --server needs its scheme: http://127.0.0.1:8080 or https://127.0.0.1:8080, "
        "as the dashboard's address starts"
    )
    other = run_printcloud(env, "agent", "login", "--server", "ftp://print", "--api-key", "x")
    assert other.returncode == 1
    assert other.stderr.strip() == (
        "error: --server 'ftp://print': the server URL must start with http:// or https://"
    )
    assert not Path(env["PRINTCLOUD_AGENT_CONFIG"]).exists()


def test_printers_says_what_is_missing_instead_of_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    # The Windows printers asked for where pywin32 cannot be loaded (it is not installed
    # here, as on a Windows PC where it failed to install).
    Path(env["PRINTCLOUD_AGENT_CONFIG"]).write_text(
        json.dumps(
            {
                "server": "http://127.0.0.1:9",
                "api_key": "pk_live_x",
                "windows": True,
                "cups": False,
                "data_dir": str(tmp_path / "data"),
            }
        )
    )
    result = run_printcloud(env, "agent", "printers", "--sumatra", str(tmp_path / "Sumatra.exe"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: The Windows printers need pywin32")


def test_an_error_keeps_its_brackets(env: dict[str, str], tmp_path: Path) -> None:
    # rich reads "[...]" as markup and drops it: the message must reach the admin whole
    folder = tmp_path / "[invoices]"
    missing = folder / "agent.json"
    result = run_printcloud(env, "agent", "status", "--config", str(missing))
    assert result.returncode == 1
    assert str(missing) in result.stderr
    printed = run_printcloud(
        env,
        "print",
        str(folder / "[2026] label.pdf"),
        "--printer",
        "prn_x",
        "--api-key",
        "k",
        "--url",
        "http://127.0.0.1:9",
    )
    assert printed.returncode == 1
    assert f"no such file: {folder / '[2026] label.pdf'}" in printed.stderr
