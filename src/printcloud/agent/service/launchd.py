"""The agent as a launchd job (macOS): a LaunchDaemon, or a LaunchAgent of one user.

A LaunchDaemon runs from boot, with nobody logged in; a LaunchAgent only while its user
is. launchd restarts a job whose ``KeepAlive`` asks for it, and can tell only a
successful exit (0) from the rest: so the agent it runs exits 0 after a fatal error
(``--fatal-exit-code 0``: a refused key, a bad configuration), and is restarted after
any other end, at most every ``THROTTLE`` seconds. The agent's own log is a rotated file
in ``/Library/Logs/PrintCloud`` (``~/Library/Logs/PrintCloud`` for a LaunchAgent), where
Console.app shows it; what the process writes before its logging starts (a traceback) is
in ``agent.err.log`` beside it.
"""

from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from printcloud.agent import exit_codes
from printcloud.agent.service._steps import (
    Command,
    Directory,
    FileToWrite,
    Runner,
    Scope,
    ServiceStatus,
    ServiceTarget,
    Steps,
    on_disk,
)

LABEL = "org.printcloud.agent"
THROTTLE = 10
STOP_TIMEOUT = 120
_STATE = re.compile(r"^\s*state = (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Launchd:
    home: PurePosixPath
    uid: int  # a LaunchAgent lives in this user's gui/<uid> domain

    name = "launchd"

    def plist_path(self, scope: Scope) -> PurePosixPath:
        if scope is Scope.SYSTEM:
            return PurePosixPath("/Library/LaunchDaemons") / f"{LABEL}.plist"
        return self.home / "Library/LaunchAgents" / f"{LABEL}.plist"

    def log_dir(self, scope: Scope) -> PurePosixPath:
        if scope is Scope.SYSTEM:
            return PurePosixPath("/Library/Logs/PrintCloud")
        return self.home / "Library/Logs/PrintCloud"

    def domain(self, scope: Scope) -> str:
        return "system" if scope is Scope.SYSTEM else f"gui/{self.uid}"

    def install(self, target: ServiceTarget, *, start: bool) -> Steps:
        path = self.plist_path(target.scope)
        service = f"{self.domain(target.scope)}/{LABEL}"
        # A job loaded already keeps its old definition until it is booted out.
        before = (Command(("launchctl", "bootout", service), may_fail=True),)
        after = [Command(("launchctl", "enable", service))]
        if start:
            after.append(Command(("launchctl", "bootstrap", self.domain(target.scope), str(path))))
        logs = self.log_dir(target.scope)
        owner = target.user if target.scope is Scope.SYSTEM else None
        notes = [f"logs: {logs / 'agent.log'} (and {logs / 'agent.err.log'})"]
        if not start:
            when = "boot" if target.scope is Scope.SYSTEM else "login"
            notes.append(f"it starts at the next {when}")
        return Steps(
            before=before,
            directories=(Directory(logs, owner),),
            write=(FileToWrite(path, plistlib.dumps(self.plist(target))),),
            after=tuple(after),
            notes=tuple(notes),
        )

    def plist(self, target: ServiceTarget) -> dict[str, object]:
        logs = self.log_dir(target.scope)
        arguments = [
            *target.argv,
            "agent",
            "run",
            "--config",
            str(target.config),
            "--log-file",
            str(logs / "agent.log"),
            "--fatal-exit-code",
            str(exit_codes.OK),
        ]
        job: dict[str, object] = {
            "Label": LABEL,
            "ProgramArguments": arguments,
            "RunAtLoad": True,
            # Restarted after any exit but a successful one (and a fatal error is one).
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": THROTTLE,
            # SIGTERM first: the job being printed finishes and is reported.
            "ExitTimeOut": STOP_TIMEOUT,
            "ProcessType": "Background",
            "StandardOutPath": str(logs / "agent.err.log"),
            "StandardErrorPath": str(logs / "agent.err.log"),
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        }
        if target.scope is Scope.SYSTEM and target.user is not None:
            job["UserName"] = target.user
        return job

    def uninstall(self, scope: Scope) -> Steps:
        return Steps(
            before=(Command(("launchctl", "bootout", f"{self.domain(scope)}/{LABEL}"), True),),
            remove=(self.plist_path(scope),),
        )

    def status(self, scope: Scope, run: Runner, root: Path | None = None) -> ServiceStatus:
        path = self.plist_path(scope)
        if not on_disk(path, root).exists():
            return ServiceStatus(self.name, scope, installed=False)
        try:
            answer = run(("launchctl", "print", f"{self.domain(scope)}/{LABEL}"))
        except FileNotFoundError:
            return ServiceStatus(self.name, scope, True, "unknown (no launchctl)", path)
        if answer.returncode != 0:
            return ServiceStatus(self.name, scope, True, "not loaded", path)
        found = _STATE.search(answer.stdout)
        return ServiceStatus(self.name, scope, True, found[1] if found else "loaded", path)
