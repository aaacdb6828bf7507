"""The agent's configuration file: where the server is, its key, and extra printers.

It holds an API key, so it is written with mode 0600 and the key is never printed.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from pathlib import Path
from typing import Self

import platformdirs
import structlog
from pydantic import BaseModel, Field, ValidationError, field_validator

log = structlog.get_logger(__name__)

CONFIG_ENV = "PRINTCLOUD_AGENT_CONFIG"


def default_config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("printcloud", appauthor=False)) / "agent.json"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("printcloud", appauthor=False)) / "agent"


class ConfigError(Exception):
    """The configuration is missing or wrong; the message says what to do."""


def _check_host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 192.168.1.50:9100)")
    return value


class AgentConfig(BaseModel):
    server: str = Field(description="The PrintCloud server, e.g. https://print.example.com")
    api_key: str = Field(repr=False)
    name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=200)
    # This computer's stable id, sent in ``auth``: made at login and kept by a re-login,
    # so the server knows the machine even when two have one name. None in a
    # configuration written before it existed, until ``with_machine_id`` gives it one.
    machine_id: str | None = Field(default=None, min_length=1, max_length=200)
    # CUPS is the default on Linux and macOS: every queue of the machine is reported.
    cups: bool = Field(default_factory=lambda: sys.platform != "win32")
    cups_server: str | None = None  # else CUPS_SERVER, else the default socket/localhost:631
    windows: bool = Field(default_factory=lambda: sys.platform == "win32")
    # PDFs on Windows are drawn by the agent itself (pypdfium2 and GDI); given, they go to
    # this SumatraPDF.exe's command line printer instead (docs/windows.md).
    sumatra_path: Path | None = None
    raw_printers: dict[str, str] = Field(default_factory=dict)  # name -> host:port
    folder_printers: dict[str, Path] = Field(default_factory=dict)  # name -> directory
    only_printers: list[str] = Field(default_factory=list)  # report just these, when given
    data_dir: Path = Field(default_factory=default_data_dir)
    download_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    download_timeout: float = Field(default=60.0, gt=0)
    # Documents are fetched only from public addresses unless this is set (a NAS, an
    # intranet server of the office): printcloud.outbound's policy, as on the server.
    allow_private_urls: bool = False
    job_timeout: float = Field(default=120.0, gt=0)  # seconds without progress: a stuck job
    # Seconds a job may wait for a person (a paused or out-of-paper printer) or for CUPS
    # to answer again, telling the server why, before it is cancelled as an error.
    printer_wait_limit: float = Field(default=24 * 3600.0, gt=0)
    printer_poll_interval: float = Field(default=30.0, gt=0)

    @field_validator("server")
    @classmethod
    def _server_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("the server URL must start with http:// or https://")
        return value

    @field_validator("raw_printers")
    @classmethod
    def _raw(cls, value: dict[str, str]) -> dict[str, str]:
        return {name: _check_host_port(address) for name, address in value.items()}

    @property
    def websocket_url(self) -> str:
        scheme, rest = self.server.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"

    @classmethod
    def load(cls, path: Path) -> Self:
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except FileNotFoundError:
            raise ConfigError(
                f"no agent configuration at {path}: run `printcloud agent login` first"
            ) from None
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"the agent configuration {path} is not valid: {exc}") from None

    def save(self, path: Path) -> None:
        """Write atomically, readable by this user only (it holds the API key)."""
        _write_private(path, self.model_dump_json(indent=2))


def new_machine_id() -> str:
    return uuid.uuid4().hex


def with_machine_id(config: AgentConfig, path: Path) -> AgentConfig:
    """``config`` with a machine id. A configuration written before machine ids existed
    gets one, added to its file at ``path`` (nothing else in the file changes); if the
    file cannot be written, the id is this run's only, and the next run tries again."""
    if config.machine_id is not None:
        return config
    machine_id = new_machine_id()
    try:
        stored = json.loads(path.read_text())  # the file as written, defaults left out
        _write_private(path, json.dumps({**stored, "machine_id": machine_id}, indent=2))
    except (OSError, ValueError, TypeError) as exc:  # TypeError: no longer a JSON object
        log.warning(
            "machine_id_not_saved",
            config=str(path),
            error=str(exc),
            hint="this run uses a machine id of its own; the next run tries to save one again",
        )
    else:
        log.info("machine_id_created", config=str(path), machine_id=machine_id)
    return config.model_copy(update={"machine_id": machine_id})


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
    temporary.replace(path)
