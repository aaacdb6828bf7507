"""The agent's service definitions: the files each OS's manager reads and the exact
command lines it is given. systemd's unit is checked by systemd itself (in
tests/cli/test_agent_service_cli.py); launchd and Task Scheduler are not on this
machine, so their plist, XML and command lines are read back and compared with what
their documentation asks for."""

from __future__ import annotations

import plistlib
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from printcloud.agent import exit_codes
from printcloud.agent.service import (
    Launchd,
    Scope,
    ServiceError,
    ServiceTarget,
    Systemd,
    WindowsTasks,
    apply,
)
from printcloud.agent.service.systemd import quote, unit_text


class RecordingRunner:
    """Stands in for the service manager's command: records each command line and
    answers with the exit code and output it was told to."""

    def __init__(self, answers: dict[str, tuple[int, str, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        code, stdout, stderr = self.answers.get(" ".join(argv), (0, "", ""))
        return subprocess.CompletedProcess(list(argv), code, stdout, stderr)


MAC_PYTHON = "/Users/Shared/PrintCloud/venv/bin/python3"
WIN_PYTHON = r"C:\Program Files\PrintCloud\venv\Scripts\python.exe"


def mac_target(scope: Scope, user: str | None = None) -> ServiceTarget:
    return ServiceTarget(
        argv=(MAC_PYTHON, "-m", "printcloud"),
        config=PurePosixPath("/Users/dana/Library/Application Support/printcloud/agent.json"),
        scope=scope,
        user=user,
    )


def windows_target(scope: Scope, user: str | None = None) -> ServiceTarget:
    return ServiceTarget(
        argv=(WIN_PYTHON, "-m", "printcloud"),
        config=PureWindowsPath(r"C:\ProgramData\PrintCloud\agent.json"),
        scope=scope,
        user=user,
    )


# systemd


def test_a_system_unit_restarts_on_failure_but_not_after_a_fatal_exit() -> None:
    target = ServiceTarget(
        argv=("/opt/pc/venv/bin/python", "-m", "printcloud"),
        config=PurePosixPath("/etc/printcloud/agent.json"),
        scope=Scope.SYSTEM,
        user="office",
        writable=(PurePosixPath("/var/lib/printcloud"),),
    )
    lines = unit_text(target).splitlines()
    assert (
        "ExecStart=/opt/pc/venv/bin/python -m printcloud agent run "
        "--config /etc/printcloud/agent.json"
    ) in lines
    assert "Restart=on-failure" in lines
    assert f"RestartPreventExitStatus={exit_codes.FATAL}" in lines
    assert exit_codes.FATAL == 78
    assert "StartLimitBurst=5" in lines
    assert "User=office" in lines
    assert "ProtectSystem=full" in lines
    assert "PrivateTmp=yes" in lines
    assert "ReadWritePaths=-/etc/printcloud" in lines
    assert "ReadWritePaths=-/var/lib/printcloud" in lines
    assert "WantedBy=multi-user.target" in lines
    # journald gets the output: nothing sends it elsewhere
    assert not any(line.startswith(("StandardOutput", "StandardError")) for line in lines)
    assert "--log-file" not in unit_text(target)


def test_a_user_unit_has_no_system_hardening_and_starts_with_the_session() -> None:
    target = ServiceTarget(
        argv=("/home/dana/pc/bin/python", "-m", "printcloud"),
        config=PurePosixPath("/home/dana/.config/printcloud/agent.json"),
        scope=Scope.USER,
        user="ignored-for-a-user-unit",
    )
    lines = unit_text(target).splitlines()
    assert "WantedBy=default.target" in lines
    assert not any(line.startswith(("User=", "ProtectSystem", "PrivateTmp")) for line in lines)
    assert f"RestartPreventExitStatus={exit_codes.FATAL}" in lines


def test_no_private_tmp_when_the_configuration_lives_in_tmp() -> None:
    target = ServiceTarget(
        argv=("/usr/bin/python3",),
        config=PurePosixPath("/tmp/pc/agent.json"),  # noqa: S108 - a path in a unit, not a file
        scope=Scope.SYSTEM,
    )
    assert "PrivateTmp=yes" not in unit_text(target)


def test_unit_arguments_are_quoted_as_systemd_reads_them() -> None:
    assert quote("/opt/pc/bin/python") == "/opt/pc/bin/python"
    assert quote("/srv/Print Cloud/agent.json") == '"/srv/Print Cloud/agent.json"'
    assert quote("/srv/100%/a$b", command_line=True) == '"/srv/100%%/a$$b"'
    assert quote("/srv/100%/a$b") == '"/srv/100%%/a$b"'
    assert quote('/srv/say "hi"\\') == '"/srv/say \\"hi\\"\\\\"'
    with pytest.raises(ValueError, match="control character"):
        quote("/srv/a\nExecStartPre=/bin/evil")


def test_systemd_commands_enable_and_start_then_stop_and_remove(tmp_path: Path) -> None:
    systemd = Systemd(PurePosixPath("/home/dana"))
    target = ServiceTarget(
        argv=("/usr/bin/python3",), config=PurePosixPath("/etc/pc.json"), scope=Scope.SYSTEM
    )
    run = RecordingRunner()
    apply(systemd.install(target, start=True), root=tmp_path, run=run)
    assert run.calls == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "printcloud-agent.service"],
    ]
    unit = tmp_path / "etc/systemd/system/printcloud-agent.service"
    assert unit.read_text() == unit_text(target)
    assert oct(unit.stat().st_mode & 0o777) == oct(0o644)

    # not running: `disable --now` fails, and removing goes on
    run = RecordingRunner({"systemctl disable --now printcloud-agent.service": (1, "", "no")})
    apply(systemd.uninstall(Scope.SYSTEM), root=tmp_path, run=run)
    assert run.calls == [
        ["systemctl", "disable", "--now", "printcloud-agent.service"],
        ["systemctl", "daemon-reload"],
    ]
    assert not unit.exists()


def test_a_user_unit_goes_in_the_users_config_and_uses_systemctl_user(tmp_path: Path) -> None:
    systemd = Systemd(PurePosixPath("/home/dana"))
    target = ServiceTarget(
        argv=("/usr/bin/python3",), config=PurePosixPath("/home/dana/pc.json"), scope=Scope.USER
    )
    run = RecordingRunner()
    steps = systemd.install(target, start=False)
    apply(steps, root=tmp_path, run=run)
    assert run.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "printcloud-agent.service"],
    ]
    assert (tmp_path / "home/dana/.config/systemd/user/printcloud-agent.service").exists()
    assert any("enable-linger" in note for note in steps.notes)


def test_systemd_status_says_whether_installed_and_what_systemctl_says(tmp_path: Path) -> None:
    systemd = Systemd(PurePosixPath("/home/dana"))
    asked = RecordingRunner({"systemctl is-active printcloud-agent.service": (3, "failed\n", "")})
    assert not systemd.status(Scope.SYSTEM, asked, tmp_path).installed
    assert asked.calls == []  # nothing to ask about

    unit = tmp_path / "etc/systemd/system/printcloud-agent.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\n")
    status = systemd.status(Scope.SYSTEM, asked, tmp_path)
    assert (status.installed, status.state) == (True, "failed")
    assert asked.calls == [["systemctl", "is-active", "printcloud-agent.service"]]

    nobody = RecordingRunner(
        {"systemctl is-active printcloud-agent.service": (1, "", "Failed to connect to bus\n")}
    )
    status = systemd.status(Scope.SYSTEM, nobody, tmp_path)
    assert status.state == "unknown (Failed to connect to bus)"
    assert "unknown (Failed to connect to bus)" in status.describe()


# launchd


def test_a_launch_daemon_runs_at_boot_and_stays_down_after_a_fatal_exit() -> None:
    launchd = Launchd(PurePosixPath("/Users/dana"), uid=501)
    steps = launchd.install(mac_target(Scope.SYSTEM, user="dana"), start=True)
    [written] = steps.write
    assert written.path == PurePosixPath("/Library/LaunchDaemons/org.printcloud.agent.plist")
    job = plistlib.loads(written.content)
    assert job == {
        "Label": "org.printcloud.agent",
        "ProgramArguments": [
            MAC_PYTHON,
            "-m",
            "printcloud",
            "agent",
            "run",
            "--config",
            "/Users/dana/Library/Application Support/printcloud/agent.json",
            "--log-file",
            "/Library/Logs/PrintCloud/agent.log",
            # launchd tells only a successful exit from the rest: fatal must be one
            "--fatal-exit-code",
            "0",
        ],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "ExitTimeOut": 120,
        "ProcessType": "Background",
        "StandardOutPath": "/Library/Logs/PrintCloud/agent.err.log",
        "StandardErrorPath": "/Library/Logs/PrintCloud/agent.err.log",
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "UserName": "dana",
    }
    assert [d.path for d in steps.directories] == [PurePosixPath("/Library/Logs/PrintCloud")]
    assert steps.directories[0].owner == "dana"  # it writes its log there


def test_launchctl_boots_out_the_old_job_then_enables_and_bootstraps(tmp_path: Path) -> None:
    launchd = Launchd(PurePosixPath("/Users/dana"), uid=501)
    run = RecordingRunner({"launchctl bootout system/org.printcloud.agent": (3, "", "No such")})
    apply(launchd.install(mac_target(Scope.SYSTEM), start=True), root=tmp_path, run=run)
    assert run.calls == [
        ["launchctl", "bootout", "system/org.printcloud.agent"],
        ["launchctl", "enable", "system/org.printcloud.agent"],
        ["launchctl", "bootstrap", "system", "/Library/LaunchDaemons/org.printcloud.agent.plist"],
    ]
    plist = tmp_path / "Library/LaunchDaemons/org.printcloud.agent.plist"
    assert "UserName" not in plistlib.loads(plist.read_bytes())  # root's own
    assert (tmp_path / "Library/Logs/PrintCloud").is_dir()

    run = RecordingRunner()
    apply(launchd.uninstall(Scope.SYSTEM), root=tmp_path, run=run)
    assert run.calls == [["launchctl", "bootout", "system/org.printcloud.agent"]]
    assert not plist.exists()


def test_a_launch_agent_lives_in_the_users_library_and_gui_domain(tmp_path: Path) -> None:
    launchd = Launchd(PurePosixPath("/Users/dana"), uid=501)
    run = RecordingRunner()
    steps = launchd.install(mac_target(Scope.USER, user="not-for-an-agent"), start=False)
    apply(steps, root=tmp_path, run=run)
    assert run.calls == [
        ["launchctl", "bootout", "gui/501/org.printcloud.agent"],
        ["launchctl", "enable", "gui/501/org.printcloud.agent"],
    ]
    job = plistlib.loads(
        (tmp_path / "Users/dana/Library/LaunchAgents/org.printcloud.agent.plist").read_bytes()
    )
    assert "UserName" not in job
    assert job["ProgramArguments"][-4:] == [
        "--log-file",
        "/Users/dana/Library/Logs/PrintCloud/agent.log",
        "--fatal-exit-code",
        "0",
    ]
    assert "it starts at the next login" in steps.notes


def test_launchd_status_reads_the_state_launchctl_prints(tmp_path: Path) -> None:
    launchd = Launchd(PurePosixPath("/Users/dana"), uid=501)
    plist = tmp_path / "Library/LaunchDaemons/org.printcloud.agent.plist"
    plist.parent.mkdir(parents=True)
    plist.write_bytes(plistlib.dumps({"Label": "org.printcloud.agent"}))
    printed = "system/org.printcloud.agent = {\n\tactive count = 1\n\tstate = running\n}\n"
    run = RecordingRunner({"launchctl print system/org.printcloud.agent": (0, printed, "")})
    assert launchd.status(Scope.SYSTEM, run, tmp_path).state == "running"
    run = RecordingRunner({"launchctl print system/org.printcloud.agent": (113, "", "")})
    assert launchd.status(Scope.SYSTEM, run, tmp_path).state == "not loaded"
    assert not launchd.status(Scope.USER, run, tmp_path).installed


# Windows

TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def read_task(content: bytes) -> ET.Element:
    # Our own XML; the declaration names UTF-16, which a str cannot be parsed with.
    return ET.fromstring(content.decode("utf-16").split("\n", 1)[1])  # noqa: S314


def find(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path, TASK_NS)
    assert found is not None, path
    return found


def text_of(element: ET.Element, path: str) -> str:
    found = find(element, path).text
    assert found is not None, path
    return found


def windows_tasks() -> WindowsTasks:
    return WindowsTasks(
        PureWindowsPath(r"C:\ProgramData"), PureWindowsPath(r"C:\Users\dana\AppData\Local")
    )


def test_the_windows_task_runs_at_boot_as_system_and_restarts_after_a_failure() -> None:
    steps = windows_tasks().install(windows_target(Scope.SYSTEM), start=True)
    [written] = steps.write
    assert written.path == PureWindowsPath(r"C:\ProgramData\PrintCloud\agent-task.xml")
    assert written.content.startswith(b"\xff\xfe")  # UTF-16 with its BOM, as schtasks reads
    text = written.content.decode("utf-16")
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    task = read_task(written.content)
    assert text_of(task, "t:Triggers/t:BootTrigger/t:Enabled") == "true"
    assert text_of(task, "t:Principals/t:Principal/t:UserId") == "S-1-5-18"
    assert text_of(task, "t:Principals/t:Principal/t:RunLevel") == "HighestAvailable"
    settings = find(task, "t:Settings")
    assert text_of(settings, "t:ExecutionTimeLimit") == "PT0S"
    assert text_of(settings, "t:MultipleInstancesPolicy") == "IgnoreNew"
    assert text_of(settings, "t:DisallowStartIfOnBatteries") == "false"
    assert text_of(settings, "t:StopIfGoingOnBatteries") == "false"
    assert text_of(settings, "t:RestartOnFailure/t:Interval") == "PT1M"
    assert text_of(settings, "t:RestartOnFailure/t:Count") == "999"
    action = find(task, "t:Actions/t:Exec")
    assert text_of(action, "t:Command") == WIN_PYTHON
    assert text_of(action, "t:Arguments") == (
        r"-m printcloud agent run --config C:\ProgramData\PrintCloud\agent.json "
        r"--log-file C:\ProgramData\PrintCloud\logs\agent.log --fatal-exit-code 0"
    )
    assert text_of(action, "t:WorkingDirectory") == r"C:\ProgramData\PrintCloud"


def test_schtasks_creates_the_task_from_its_xml_and_runs_it(tmp_path: Path) -> None:
    tasks = windows_tasks()
    run = RecordingRunner({"schtasks /End /TN PrintCloudAgent": (1, "", "ERROR: not found")})
    apply(tasks.install(windows_target(Scope.SYSTEM), start=True), root=tmp_path, run=run)
    xml = r"C:\ProgramData\PrintCloud\agent-task.xml"
    assert run.calls == [
        ["schtasks", "/End", "/TN", "PrintCloudAgent"],
        ["schtasks", "/Create", "/TN", "PrintCloudAgent", "/XML", xml, "/F"],
        ["schtasks", "/Run", "/TN", "PrintCloudAgent"],
    ]
    assert (tmp_path / "ProgramData/PrintCloud/agent-task.xml").exists()

    run = RecordingRunner({"schtasks /Query /TN PrintCloudAgent /FO CSV /NH": (0, "", "")})
    run.answers["schtasks /Query /TN PrintCloudAgent /FO CSV /NH"] = (
        0,
        '"\\PrintCloudAgent","N/A","Running"\r\n',
        "",
    )
    assert tasks.status(Scope.SYSTEM, run, tmp_path).state == "Running"

    run = RecordingRunner()
    apply(tasks.uninstall(Scope.SYSTEM), root=tmp_path, run=run)
    assert run.calls == [
        ["schtasks", "/End", "/TN", "PrintCloudAgent"],
        ["schtasks", "/Delete", "/TN", "PrintCloudAgent", "/F"],
    ]
    assert not (tmp_path / "ProgramData/PrintCloud/agent-task.xml").exists()
    assert not tasks.status(Scope.SYSTEM, run, tmp_path).installed


def test_a_users_task_starts_at_their_logon_without_privileges() -> None:
    tasks = windows_tasks()
    steps = tasks.install(windows_target(Scope.USER, user=r"OFFICE\dana"), start=False)
    [written] = steps.write
    assert written.path == PureWindowsPath(r"C:\Users\dana\AppData\Local\PrintCloud\agent-task.xml")
    task = read_task(written.content)
    assert text_of(task, "t:Triggers/t:LogonTrigger/t:UserId") == r"OFFICE\dana"
    principal = find(task, "t:Principals/t:Principal")
    assert text_of(principal, "t:UserId") == r"OFFICE\dana"
    assert text_of(principal, "t:LogonType") == "InteractiveToken"
    assert text_of(principal, "t:RunLevel") == "LeastPrivilege"
    arguments = text_of(task, "t:Actions/t:Exec/t:Arguments")
    assert r"--log-file C:\Users\dana\AppData\Local\PrintCloud\logs\agent.log" in arguments
    assert [c.argv[1] for c in steps.after] == ["/Create"]  # --no-start: no /Run


def test_task_arguments_with_spaces_are_quoted_for_windows() -> None:
    target = ServiceTarget(
        argv=(WIN_PYTHON, "-m", "printcloud"),
        config=PureWindowsPath(r"C:\Users\Dana Cohen\printcloud\agent.json"),
        scope=Scope.SYSTEM,
    )
    task = read_task(windows_tasks().task_xml(target))
    arguments = text_of(task, "t:Actions/t:Exec/t:Arguments")
    assert r'--config "C:\Users\Dana Cohen\printcloud\agent.json"' in arguments


# applying


def test_a_failing_command_stops_with_what_it_said(tmp_path: Path) -> None:
    systemd = Systemd(PurePosixPath("/root"))
    target = ServiceTarget(
        argv=("/usr/bin/python3",), config=PurePosixPath("/etc/pc.json"), scope=Scope.SYSTEM
    )
    run = RecordingRunner(
        {"systemctl daemon-reload": (1, "", "Failed to connect to bus: Host is down\n")}
    )
    with pytest.raises(ServiceError, match="`systemctl daemon-reload` failed: Failed to connect"):
        apply(systemd.install(target, start=True), root=tmp_path, run=run)
    assert run.calls == [["systemctl", "daemon-reload"]]  # and nothing enabled after it

    def missing(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    with pytest.raises(ServiceError, match="systemctl is not installed"):
        apply(systemd.install(target, start=True), root=tmp_path, run=missing)
