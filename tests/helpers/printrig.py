"""The test print rig (scripts/printrig.sh), and what to do
when it is not running.

The rig is a private cupsd with two queues, PDFQ (IPP Everywhere, to an
ippeveprinter emulator that keeps every document it receives) and ZPLQ (raw, to
a socket sink that writes one file per connection). Locally a rig that is not
running skips its tests with the reason; under PRINTCLOUD_TEST_REQUIRE_SERVICES=1
it fails them (see tests/helpers/services.py).
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from printcloud.agent.printers.base import PrintFailed
from printcloud.protocol import ipp
from printcloud.protocol.ipp import GroupTag, Operation, ValueTag, attr
from tests.helpers import services
from tests.helpers.waiting import eventually

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "printrig.sh"


@dataclass(frozen=True)
class PrintRig:
    cups_server: str  # the private cupsd's socket
    cups_url: str  # ipp://localhost:<port>, the same cupsd on TCP
    ipp_url: str  # the emulator: ipp://localhost:<port>/ipp/print
    ipp_spool: Path  # the emulator's <job-id>-<job-name>.<ext> files
    sink: Path  # the raw sink's N.bin files
    sink_port: int

    @property
    def ipp_http_url(self) -> str:
        """Where to POST IPP requests for the emulator."""
        return "http://" + self.ipp_url.removeprefix("ipp://")


def read_environment(script: Path = SCRIPT) -> dict[str, str]:
    """The ``export NAME=value ...`` lines that ``printrig.sh env`` prints."""
    result = subprocess.run(
        ["bash", str(script), "env"], capture_output=True, text=True, timeout=10, check=True
    )
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        words = shlex.split(line)
        if words[:1] != ["export"]:
            continue
        for word in words[1:]:
            name, _, value = word.partition("=")
            found[name] = value
    return found


def answers(path: str) -> bool:
    """Whether something listens on a Unix socket (a stale socket file refuses)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(1)
        try:
            client.connect(path)
        except OSError:
            return False
    return True


def load(script: Path = SCRIPT) -> PrintRig:
    """The running rig, or a skip (a failure when services are required)."""
    if not script.is_file():
        services.unavailable("the print rig", f"{script} (no such script)")
    try:
        env = read_environment(script)
    except (OSError, subprocess.SubprocessError) as exc:
        services.unavailable("the print rig", f"{script} ({exc})")
    try:
        rig = PrintRig(
            cups_server=env["CUPS_SERVER"],
            cups_url=env["PRINTRIG_CUPS_URL"],
            ipp_url=env["PRINTRIG_IPP_URL"],
            ipp_spool=Path(env["PRINTRIG_IPP_SPOOL"]),
            sink=Path(env["PRINTRIG_SINK"]),
            sink_port=int(env["PRINTRIG_SINK_PORT"]),
        )
    except (KeyError, ValueError) as exc:
        services.unavailable("the print rig", f"{script} (its env lacks {exc})")
    if not answers(rig.cups_server):
        services.unavailable("the print rig's CUPS", rig.cups_server)
    emulator_port = int(rig.ipp_url.rsplit(":", 1)[1].split("/", 1)[0])
    if not services.reachable("localhost", emulator_port):
        services.unavailable("the print rig's IPP printer", rig.ipp_url)
    return rig


# Helpers of the tests that print on the rig.


def unique_title(kind: str) -> str:
    return f"pc-{kind}-{secrets.token_hex(4)}"


async def ipp_call(
    url: str, operation: Operation, attributes: list[ipp.Attribute], uds: str | None = None
) -> ipp.Message:
    """One IPP request with our own client: to the emulator, or to CUPS over its socket."""
    transport = httpx.AsyncHTTPTransport(uds=uds) if uds else None
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        response = await client.post(
            url,
            content=ipp.request(operation, 1, attributes),
            headers={"Content-Type": "application/ipp", "Host": "localhost"},
        )
    message = ipp.parse(response.content)
    assert message.ok, (operation.name, message.status_name, message.status_message)
    return message


async def spool_files(rig: PrintRig, title: str, count: int) -> list[Path]:
    """The emulator's files of the jobs called ``title``, once there are ``count`` of them
    (it names them <job-id>-<job-name>.pdf)."""

    async def find() -> list[Path] | None:
        files = sorted(rig.ipp_spool.glob(f"*-{title}.pdf"))
        return files if len(files) >= count else None

    found: list[Path] = await eventually(find)
    return found


async def emulator_job(rig: PrintRig, name: str) -> ipp.Group:
    """The emulator's own record of the completed job called ``name``."""

    async def find() -> ipp.Group | None:
        message = await ipp_call(
            rig.ipp_http_url,
            Operation.GET_JOBS,
            [
                attr("printer-uri", ValueTag.URI, rig.ipp_url),
                attr("which-jobs", ValueTag.KEYWORD, "completed"),
                attr("requested-attributes", ValueTag.KEYWORD, "all"),
            ],
        )
        jobs = [job for job in message.all(GroupTag.JOB) if job.get("job-name") == [name]]
        return jobs[0] if jobs else None

    found: ipp.Group = await eventually(find)
    return found


async def cups_job_state(rig: PrintRig, failure: PrintFailed) -> int:
    """The state CUPS reports now for the job a failure names ("CUPS job N ...").

    By id, not by name: CUPS drops the name of a job cancelled before it started."""
    match = re.search(r"CUPS job (\d+)", str(failure))
    assert match, f"no CUPS job id in {failure}"
    return await cups_job_state_of(rig, int(match.group(1)))


async def cups_job_state_of(rig: PrintRig, job_id: int) -> int:
    """The state CUPS reports now for its job ``job_id``."""
    message = await ipp_call(
        "http://localhost/",
        Operation.GET_JOB_ATTRIBUTES,
        [
            attr("printer-uri", ValueTag.URI, "ipp://localhost/"),
            attr("job-id", ValueTag.INTEGER, job_id),
            attr("requesting-user-name", ValueTag.NAME, getpass.getuser()),
            attr("requested-attributes", ValueTag.KEYWORD, "job-state"),
        ],
        uds=rig.cups_server,
    )
    state = message.value("job-state", GroupTag.JOB)
    assert isinstance(state, int)
    return state


async def cups_job_waiting(rig: PrintRig, queue: str, title: str) -> int:
    """The id of the job called ``title`` once CUPS holds it, not yet done, on ``queue``."""

    async def find() -> int | None:
        message = await ipp_call(
            "http://localhost/",
            Operation.GET_JOBS,
            [
                attr("printer-uri", ValueTag.URI, f"ipp://localhost/printers/{queue}"),
                attr("requesting-user-name", ValueTag.NAME, getpass.getuser()),
                attr("which-jobs", ValueTag.KEYWORD, "not-completed"),
                attr("requested-attributes", ValueTag.KEYWORD, "job-id", "job-name"),
            ],
            uds=rig.cups_server,
        )
        for job in message.all(GroupTag.JOB):
            job_id = job.get("job-id", [None])[0]
            if job.get("job-name") == [title] and isinstance(job_id, int):
                return job_id
        return None

    found: int = await eventually(find)
    return found


def run_cups_tool(rig: PrintRig, *args: str) -> None:
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} is not installed")
    subprocess.run(
        args,
        env={**os.environ, "CUPS_SERVER": rig.cups_server},
        check=True,
        capture_output=True,
        timeout=10,
    )


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def sink_files_with(rig: PrintRig, data: bytes) -> list[Path]:
    """The sink files that hold ``data`` now."""
    return [path for path in rig.sink.glob("*.bin") if data in path.read_bytes()]


async def sink_file_with(rig: PrintRig, data: bytes, timeout: float = 10) -> bytes:
    """The sink file that holds ``data``, a unique token: found by content, since the
    sink numbers its files from 1 again each time the rig restarts."""

    async def find() -> bytes | None:
        for path in rig.sink.glob("*.bin"):
            content = path.read_bytes()
            if data in content:
                return content
        return None

    found: bytes = await eventually(find, timeout=timeout)
    return found


class PrivateRig:
    """A print rig of a test's own (printrig.sh with its own directory and ports), for
    tests that stop CUPS or wedge the printer: the shared rig is everyone's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._env = {
            **os.environ,
            "RIG": str(root),
            "IPP_PORT": str(closed_port()),
            "CUPS_PORT": str(closed_port()),
            "SINK_PORT": str(closed_port()),
        }
        self._cupsd: subprocess.Popen[bytes] | None = None  # one start_cups() started

    def start(self) -> PrintRig:
        subprocess.run(
            ["bash", str(SCRIPT), "start"],
            env=self._env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        env = {**os.environ, **self._env}
        result = subprocess.run(
            ["bash", str(SCRIPT), "env"], env=env, capture_output=True, text=True, check=True
        )
        found = dict(
            word.split("=", 1)
            for line in result.stdout.splitlines()
            for word in shlex.split(line)[1:]
        )
        return PrintRig(
            cups_server=found["CUPS_SERVER"],
            cups_url=found["PRINTRIG_CUPS_URL"],
            ipp_url=found["PRINTRIG_IPP_URL"],
            ipp_spool=Path(found["PRINTRIG_IPP_SPOOL"]),
            sink=Path(found["PRINTRIG_SINK"]),
            sink_port=int(found["PRINTRIG_SINK_PORT"]),
        )

    def stop_cups(self) -> None:
        """cupsd gone, as in a restart: its process ended (SIGTERM), its socket closed."""
        pid_file = self.root / "cupsd.pid"
        pid = int(pid_file.read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and _running(pid):
            assert time.monotonic() < deadline, "cupsd did not stop"
            time.sleep(0.05)  # another process exits: only asking tells when

    def start_cups(self) -> None:
        """cupsd again, as printrig.sh starts it (its PID where ``stop`` finds it)."""
        cups = self.root / "cups"
        self._cupsd = process = subprocess.Popen(
            ["cupsd", "-f", "-c", str(cups / "cupsd.conf"), "-s", str(cups / "cups-files.conf")],
            env={**os.environ, **self._env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        (self.root / "cupsd.pid").write_text(str(process.pid))

    def stop(self) -> None:
        subprocess.run(
            ["bash", str(SCRIPT), "stop"],
            env=self._env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if self._cupsd is not None:
            self._cupsd.wait(timeout=10)  # stopped by the script: reaped here
        shutil.rmtree(self.root, ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
