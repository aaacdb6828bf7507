"""The CLI as a newcomer meets it (issue 18): its version, what to do when the key or a
flag is missing, and `agent printers` taking the flags of `agent run`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from printcloud import __version__
from tests.helpers.server_process import run_printcloud


def _without_client_settings() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k not in ("PRINTCLOUD_API_KEY", "PRINTCLOUD_URL")
    }


def test_version() -> None:
    result = run_printcloud(_without_client_settings(), "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"printcloud {__version__}"


def test_a_missing_key_or_url_is_said_in_the_clis_words() -> None:
    env = _without_client_settings()
    no_key = run_printcloud(env, "printers", "--url", "http://127.0.0.1:9")
    assert no_key.returncode == 1
    assert no_key.stderr.strip() == "error: no API key: pass --api-key or set PRINTCLOUD_API_KEY"
    no_url = run_printcloud(env, "printers", "--api-key", "pk_live_x")
    assert no_url.returncode == 1
    assert no_url.stderr.strip() == (
        "error: no server URL: pass --url or set PRINTCLOUD_URL (e.g. http://127.0.0.1:8080)"
    )


def test_printing_a_label_without_raw_says_to_add_raw(tmp_path: Path) -> None:
    label = tmp_path / "label.zpl"
    label.write_bytes(b"^XA^FO50,50^FDHello^FS^XZ")
    result = run_printcloud(
        _without_client_settings(),
        "print",
        str(label),
        "--printer",
        "prn_x",
        "--api-key",
        "pk_live_x",
        "--url",
        "http://127.0.0.1:9",
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {label} is not a PDF: add --raw to send it to the printer as it is"
    )


def test_agent_printers_takes_the_printer_flags_of_agent_run(tmp_path: Path) -> None:
    config = tmp_path / "agent.json"
    config.write_text(
        json.dumps(
            {"server": "http://127.0.0.1:9", "api_key": "pk_live_x", "data_dir": str(tmp_path)}
        )
    )
    env = {**os.environ, "PRINTCLOUD_AGENT_CONFIG": str(config)}
    result = run_printcloud(
        env,
        "agent",
        "printers",
        "--json",
        "--no-cups",
        "--folder",
        f"Invoices={tmp_path / 'out'}",
        "--raw",
        "Zebra=127.0.0.1:9100",
        "--printers",
        "Invoices,Zebra",
    )
    assert result.returncode == 0, result.stderr
    assert {(p["name"], p["backend"]) for p in json.loads(result.stdout)} == {
        ("Invoices", "folder"),
        ("Zebra", "raw"),
    }
