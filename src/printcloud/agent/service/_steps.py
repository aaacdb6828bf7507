"""What installing or removing the service does, as data, and the one function that does it.

Each service manager (systemd, launchd, Windows' Task Scheduler) only describes its
files and commands (``Steps``); ``apply`` writes and runs them. Tests read the steps, or
apply them under a temporary root with a runner that records the command lines.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePath

# Runs one command line to its end and gives back its exit code and output.
Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


class Scope(StrEnum):
    SYSTEM = "system"  # at boot, whoever is logged in (root's or an administrator's to install)
    USER = "user"  # this user's, while they are logged in


class ServiceError(Exception):
    """Installing, removing or asking about the service failed; the message says why."""


@dataclass(frozen=True)
class ServiceTarget:
    """What the service runs: ``<argv> agent run --config <config>``."""

    argv: tuple[str, ...]  # how to start ``printcloud``: (sys.executable, "-m", "printcloud")
    config: PurePath  # absolute
    scope: Scope
    # The account a system service runs as; None for the manager's own (root, SYSTEM).
    user: str | None = None
    # Directories the agent writes (its configuration's, its data): kept writable when the
    # service makes the rest of the system read-only.
    writable: tuple[PurePath, ...] = ()


@dataclass(frozen=True)
class FileToWrite:
    path: PurePath
    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Directory:
    path: PurePath
    owner: str | None = None  # the account the service runs as, when it must write there


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    # Stopping a service that is not running fails, and that is fine when removing it.
    may_fail: bool = False


@dataclass(frozen=True)
class Steps:
    """In order: ``before`` commands, directories, files written, files removed, ``after``."""

    before: tuple[Command, ...] = ()
    directories: tuple[Directory, ...] = ()
    write: tuple[FileToWrite, ...] = ()
    remove: tuple[PurePath, ...] = ()
    after: tuple[Command, ...] = ()
    # What the person installing should know (where the logs are, how to start it).
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ServiceStatus:
    manager: str  # "systemd", "launchd", "Task Scheduler"
    scope: Scope
    installed: bool
    state: str = ""  # the manager's word: active, failed, running, Ready...; "" when not installed
    where: PurePath | None = None  # the unit, plist or task file

    def describe(self) -> str:
        if not self.installed:
            return f"no {self.scope} service ({self.manager})"
        return f"{self.scope} service ({self.manager}, {self.where}): {self.state or 'unknown'}"


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """The real runner: the command's exit code and output, never an exception for a
    command that ran and failed."""
    return subprocess.run(  # noqa: S603 - fixed command lines of the service managers
        list(argv), capture_output=True, text=True, check=False, timeout=120
    )


def on_disk(path: PurePath, root: Path | None) -> Path:
    """Where ``path`` is written: itself, or the same path under ``root`` (for packagers
    and tests), its drive or leading ``/`` dropped."""
    if root is None:
        return Path(path)
    return root.joinpath(*path.parts[1:]) if path.anchor else root / path


def apply(steps: Steps, *, root: Path | None = None, run: Runner | None = None) -> None:
    """Write the files (under ``root`` when given) and run the commands through ``run``
    (none when it is None, as with ``--root``)."""
    _run_all(steps.before, run)
    for directory in steps.directories:
        made = on_disk(directory.path, root)
        made.mkdir(parents=True, exist_ok=True)
        if directory.owner is not None and root is None:
            shutil.chown(made, user=directory.owner)
    for wanted in steps.write:
        _write(on_disk(wanted.path, root), wanted.content, wanted.mode)
    for path in steps.remove:
        on_disk(path, root).unlink(missing_ok=True)
    _run_all(steps.after, run)


def _write(path: Path, content: bytes, mode: int) -> None:
    # A service manager reading a half-written file would fail to start the agent.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.chmod(mode)  # the umask must not decide who reads a service's file
    temporary.replace(path)


def _run_all(commands: Sequence[Command], run: Runner | None) -> None:
    if run is None:
        return
    for command in commands:
        try:
            result = run(command.argv)
        except FileNotFoundError:
            raise ServiceError(f"{command.argv[0]} is not installed on this computer") from None
        if result.returncode != 0 and not command.may_fail:
            said = (result.stderr or result.stdout).strip().splitlines()
            raise ServiceError(
                f"`{' '.join(command.argv)}` failed: "
                + (said[-1] if said else f"exit code {result.returncode}")
            )
