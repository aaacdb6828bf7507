"""The agent as a service of this computer's own service manager.

systemd on Linux, launchd on macOS, Task Scheduler on Windows: each describes the files
and commands that install, remove and ask about the agent's service (``Steps``), and
``apply`` carries them out. ``printcloud agent install-service`` is the edge that calls
them (docs/agent.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from printcloud.agent.service._steps import (
    Runner,
    Scope,
    ServiceError,
    ServiceStatus,
    ServiceTarget,
    Steps,
    apply,
    on_disk,
    run_command,
)
from printcloud.agent.service.launchd import Launchd
from printcloud.agent.service.systemd import Systemd
from printcloud.agent.service.windows import WindowsTasks

__all__ = [
    "Launchd",
    "Runner",
    "Scope",
    "ServiceError",
    "ServiceManager",
    "ServiceStatus",
    "ServiceTarget",
    "Steps",
    "Systemd",
    "WindowsTasks",
    "apply",
    "local_manager",
    "on_disk",
    "run_command",
]


class ServiceManager(Protocol):
    @property
    def name(self) -> str: ...

    def install(self, target: ServiceTarget, *, start: bool) -> Steps: ...

    def uninstall(self, scope: Scope) -> Steps: ...

    def status(self, scope: Scope, run: Runner, root: Path | None = None) -> ServiceStatus: ...


def local_manager(platform: str = sys.platform) -> ServiceManager:
    """This computer's service manager, with its places (home, ProgramData) read now."""
    if platform == "win32":
        program_data = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        local = os.environ.get("LOCALAPPDATA", str(Path.home() / "AppData" / "Local"))
        return WindowsTasks(PureWindowsPath(program_data), PureWindowsPath(local))
    if platform == "darwin":
        return Launchd(PurePosixPath(Path.home()), os.getuid())
    return Systemd(PurePosixPath(Path.home()))
