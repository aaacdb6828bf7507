"""The agent as a systemd service (Linux): a system unit, or a user unit.

Its logs go to stdout/stderr, which systemd hands to journald
(``journalctl -u printcloud-agent``). It is restarted after a failure, but not after a
fatal exit (``exit_codes.FATAL``: a refused key, a bad configuration), and not more
than ``START_LIMIT_BURST`` times in ``START_LIMIT_INTERVAL`` seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

from printcloud.agent import exit_codes
from printcloud.agent.service._steps import (
    Command,
    FileToWrite,
    Runner,
    Scope,
    ServiceStatus,
    ServiceTarget,
    Steps,
    on_disk,
)

UNIT = "printcloud-agent.service"
RESTART_SEC = 10
START_LIMIT_INTERVAL = 600
START_LIMIT_BURST = 5
# Long enough for the job being printed to finish and be reported after SIGTERM.
STOP_TIMEOUT = 120

_TEMPORARY = (PurePosixPath("/tmp"), PurePosixPath("/var/tmp"))  # noqa: S108 - not written
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def quote(argument: str, *, command_line: bool = False) -> str:
    """One argument as systemd reads it back: quoted when it must be, with ``%``
    (specifiers) and, on a command line, ``$`` (variables) doubled so they stay literal."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in argument):
        raise ValueError(f"{argument!r} has a control character: a unit file cannot hold it")
    text = argument.replace("%", "%%")
    if command_line:
        text = text.replace("$", "$$")
    if _PLAIN.fullmatch(argument):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Systemd:
    home: PurePosixPath  # a user unit goes in its .config/systemd/user

    name = "systemd"

    def unit_path(self, scope: Scope) -> PurePosixPath:
        if scope is Scope.SYSTEM:
            return PurePosixPath("/etc/systemd/system") / UNIT
        return self.home / ".config/systemd/user" / UNIT

    def install(self, target: ServiceTarget, *, start: bool) -> Steps:
        path = self.unit_path(target.scope)
        systemctl = _systemctl(target.scope)
        enable = (*systemctl, "enable", "--now", UNIT) if start else (*systemctl, "enable", UNIT)
        follow = "journalctl -u printcloud-agent -f"
        if target.scope is Scope.USER:
            follow = "journalctl --user -u printcloud-agent -f"
        notes = [f"logs: {follow}"]
        if target.scope is Scope.USER:
            notes.append(
                "a user service runs while you are logged in; to run it from boot, "
                "`loginctl enable-linger` (or install it with --system as root)"
            )
        if not start:
            notes.append(f"start it with: {' '.join((*systemctl, 'start', UNIT))}")
        return Steps(
            write=(FileToWrite(path, unit_text(target).encode()),),
            after=(Command((*systemctl, "daemon-reload")), Command(enable)),
            notes=tuple(notes),
        )

    def uninstall(self, scope: Scope) -> Steps:
        systemctl = _systemctl(scope)
        return Steps(
            before=(Command((*systemctl, "disable", "--now", UNIT), may_fail=True),),
            remove=(self.unit_path(scope),),
            after=(Command((*systemctl, "daemon-reload")),),
        )

    def status(self, scope: Scope, run: Runner, root: Path | None = None) -> ServiceStatus:
        path = self.unit_path(scope)
        if not on_disk(path, root).exists():
            return ServiceStatus(self.name, scope, installed=False)
        try:
            # is-active prints the state and exits non-zero for every state but active.
            answer = run((*_systemctl(scope), "is-active", UNIT))
        except FileNotFoundError:
            return ServiceStatus(self.name, scope, True, "unknown (no systemctl)", path)
        state = answer.stdout.strip()
        if not state:  # no manager to ask (a container), or no bus: its complaint says so
            complaint = answer.stderr.strip().splitlines()
            state = f"unknown ({complaint[-1] if complaint else 'no answer'})"
        return ServiceStatus(self.name, scope, True, state, path)


def _systemctl(scope: Scope) -> tuple[str, ...]:
    return ("systemctl",) if scope is Scope.SYSTEM else ("systemctl", "--user")


def unit_text(target: ServiceTarget) -> str:
    command = [*target.argv, "agent", "run", "--config", str(target.config)]
    system = target.scope is Scope.SYSTEM
    lines = [
        "# Written by `printcloud agent install-service`; `printcloud agent uninstall-service`",
        "# removes it. Logs: journalctl -u printcloud-agent (docs/agent.md).",
        "[Unit]",
        "Description=PrintCloud agent (prints the jobs of a PrintCloud server)",
        "Wants=network-online.target",
        "After=network-online.target cups.service",
        # A crash loop stops after a few tries instead of filling the journal for ever.
        f"StartLimitIntervalSec={START_LIMIT_INTERVAL}",
        f"StartLimitBurst={START_LIMIT_BURST}",
        "",
        "[Service]",
        "Type=exec",
    ]
    if system and target.user is not None:
        lines.append(f"User={quote(target.user)}")
    lines += [
        "ExecStart=" + " ".join(quote(arg, command_line=True) for arg in command),
        "Restart=on-failure",
        f"RestartSec={RESTART_SEC}",
        "# A refused or revoked key, or a configuration that cannot work: someone must act,",
        "# and restarting would only repeat the error.",
        f"RestartPreventExitStatus={exit_codes.FATAL}",
        "# The first SIGTERM lets the job being printed finish and be reported.",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={STOP_TIMEOUT}",
        "Environment=PYTHONUNBUFFERED=1",
        "SyslogIdentifier=printcloud-agent",
        "NoNewPrivileges=yes",
    ]
    if system:
        # A user manager could only do these in a user namespace of its own.
        lines.append("ProtectSystem=full")
        writable = _writable(target)
        # A private /tmp would hide a configuration or data dir kept in the real one.
        if not any(p.is_relative_to(t) for p in writable for t in _TEMPORARY):
            lines.append("PrivateTmp=yes")
        lines += [f"ReadWritePaths=-{quote(str(path))}" for path in writable]
    lines += [
        "",
        "[Install]",
        f"WantedBy={'multi-user.target' if system else 'default.target'}",
        "",
    ]
    return "\n".join(lines)


def _writable(target: ServiceTarget) -> list[PurePath]:
    found: list[PurePath] = []
    for path in (target.config.parent, *target.writable):
        if path not in found:
            found.append(path)
    return found
