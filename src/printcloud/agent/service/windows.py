"""The agent as a scheduled task (Windows): at boot as SYSTEM, or at one user's logon.

Never run on Windows (docs/agent.md): built from Microsoft's Task Scheduler schema and
``schtasks`` documentation, and tested on Linux by the command lines and the XML.

A task, not a Windows service: a service needs a program that speaks to the Service
Control Manager (pywin32's ``pythonservice.exe``, which a virtual environment does not
set up on its own), while a task runs the agent's own command line, with nothing more
installed. Task Scheduler restarts a task that failed (``RestartOnFailure``); the agent
exits 0 after a fatal error (``--fatal-exit-code 0``), so that is never taken for one.
Its log is a rotated file, ``%ProgramData%\\PrintCloud\\logs\\agent.log`` (for a user
task ``%LOCALAPPDATA%\\PrintCloud\\logs``).

SYSTEM sees the computer's printers, not the printer connections one user added
(``\\\\server\\printer``): for those, install the task of that user (``--user``).
"""

from __future__ import annotations

import csv
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

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

TASK = "PrintCloudAgent"
NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"
SYSTEM_SID = "S-1-5-18"  # LocalSystem, whatever the language of Windows calls it
RESTART_INTERVAL = "PT1M"
RESTART_COUNT = 999  # the schema's largest


@dataclass(frozen=True)
class WindowsTasks:
    program_data: PureWindowsPath  # %ProgramData%
    local_app_data: PureWindowsPath  # %LOCALAPPDATA% of the user installing

    name = "Task Scheduler"

    def base_dir(self, scope: Scope) -> PureWindowsPath:
        root = self.program_data if scope is Scope.SYSTEM else self.local_app_data
        return root / "PrintCloud"

    def task_file(self, scope: Scope) -> PureWindowsPath:
        # Kept after the task is created: what was installed, readable by an admin.
        return self.base_dir(scope) / "agent-task.xml"

    def log_file(self, scope: Scope) -> PureWindowsPath:
        return self.base_dir(scope) / "logs" / "agent.log"

    def install(self, target: ServiceTarget, *, start: bool) -> Steps:
        path = self.task_file(target.scope)
        after = [Command(("schtasks", "/Create", "/TN", TASK, "/XML", str(path), "/F"))]
        if start:
            after.append(Command(("schtasks", "/Run", "/TN", TASK)))
        notes = [f"logs: {self.log_file(target.scope)}"]
        if not start:
            when = "boot" if target.scope is Scope.SYSTEM else "logon"
            notes.append(f"it starts at the next {when} (or: schtasks /Run /TN {TASK})")
        return Steps(
            # A running agent keeps the old command line until it is ended.
            before=(Command(("schtasks", "/End", "/TN", TASK), may_fail=True),),
            write=(FileToWrite(path, self.task_xml(target)),),
            after=tuple(after),
            notes=tuple(notes),
        )

    def task_xml(self, target: ServiceTarget) -> bytes:
        """The task's definition, in UTF-16 as schtasks /XML reads it."""
        system = target.scope is Scope.SYSTEM
        ET.register_namespace("", NAMESPACE)
        task = _element("Task", version="1.2")
        info = _child(task, "RegistrationInfo")
        _child(info, "Description", "PrintCloud agent: prints the jobs of a PrintCloud server")
        _child(info, "URI", f"\\{TASK}")
        trigger = _child(_child(task, "Triggers"), "BootTrigger" if system else "LogonTrigger")
        _child(trigger, "Enabled", "true")
        if not system:
            _child(trigger, "UserId", _user(target))
        principal = _child(_child(task, "Principals"), "Principal", id="Author")
        if system:
            _child(principal, "UserId", SYSTEM_SID)
            _child(principal, "RunLevel", "HighestAvailable")
        else:
            _child(principal, "UserId", _user(target))
            _child(principal, "LogonType", "InteractiveToken")
            _child(principal, "RunLevel", "LeastPrivilege")
        settings = _child(task, "Settings")
        for name, value in [
            ("MultipleInstancesPolicy", "IgnoreNew"),
            ("DisallowStartIfOnBatteries", "false"),
            ("StopIfGoingOnBatteries", "false"),
            ("AllowHardTerminate", "true"),
            ("StartWhenAvailable", "true"),
            ("RunOnlyIfNetworkAvailable", "false"),
        ]:
            _child(settings, name, value)
        idle = _child(settings, "IdleSettings")
        _child(idle, "StopOnIdleEnd", "false")
        _child(idle, "RestartOnIdle", "false")
        for name, value in [
            ("AllowStartOnDemand", "true"),
            ("Enabled", "true"),
            ("Hidden", "false"),
            ("RunOnlyIfIdle", "false"),
            ("WakeToRun", "false"),
            # The default stops a task after three days: the agent runs for months.
            ("ExecutionTimeLimit", "PT0S"),
            ("Priority", "7"),
        ]:
            _child(settings, name, value)
        restart = _child(settings, "RestartOnFailure")
        _child(restart, "Interval", RESTART_INTERVAL)
        _child(restart, "Count", str(RESTART_COUNT))
        action = _child(_child(task, "Actions", Context="Author"), "Exec")
        _child(action, "Command", target.argv[0])
        _child(action, "Arguments", subprocess.list2cmdline(self._arguments(target)))
        _child(action, "WorkingDirectory", str(self.base_dir(target.scope)))
        ET.indent(task)
        text = ET.tostring(task, encoding="unicode")
        return ('<?xml version="1.0" encoding="UTF-16"?>\n' + text + "\n").encode("utf-16")

    def _arguments(self, target: ServiceTarget) -> list[str]:
        return [
            *target.argv[1:],
            "agent",
            "run",
            "--config",
            str(target.config),
            "--log-file",
            str(self.log_file(target.scope)),
            "--fatal-exit-code",
            str(exit_codes.OK),
        ]

    def uninstall(self, scope: Scope) -> Steps:
        return Steps(
            before=(
                Command(("schtasks", "/End", "/TN", TASK), may_fail=True),
                # Not there is as good as removed.
                Command(("schtasks", "/Delete", "/TN", TASK, "/F"), may_fail=True),
            ),
            remove=(self.task_file(scope),),
        )

    def status(self, scope: Scope, run: Runner, root: Path | None = None) -> ServiceStatus:
        path = self.task_file(scope)
        if not on_disk(path, root).exists():
            return ServiceStatus(self.name, scope, installed=False)
        try:
            answer = run(("schtasks", "/Query", "/TN", TASK, "/FO", "CSV", "/NH"))
        except FileNotFoundError:
            return ServiceStatus(self.name, scope, True, "unknown (no schtasks)", path)
        if answer.returncode != 0:
            return ServiceStatus(self.name, scope, True, "not registered", path)
        # "\PrintCloudAgent","<next run time>","<status>": Running, Ready, Disabled (in
        # the language of Windows).
        rows = [row for row in csv.reader(answer.stdout.splitlines()) if len(row) >= 3]
        return ServiceStatus(self.name, scope, True, rows[0][2] if rows else "unknown", path)


def _user(target: ServiceTarget) -> str:
    if target.user is None:
        raise ValueError("a user's task needs the user (DOMAIN\\name)")
    return target.user


def _element(tag: str, **attributes: str) -> ET.Element:
    return ET.Element(f"{{{NAMESPACE}}}{tag}", attributes)


def _child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element
