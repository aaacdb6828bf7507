"""The test print rig of these machines (shared/printrig/printrig.sh), and what to do
when it is not running.

The rig is a private cupsd with two queues, PDFQ (IPP Everywhere, to an
ippeveprinter emulator that keeps every document it receives) and ZPLQ (raw, to
a socket sink that writes one file per connection). Locally a rig that is not
running skips its tests with the reason; under PRINTCLOUD_TEST_REQUIRE_SERVICES=1
it fails them (see tests/services.py).
"""

from __future__ import annotations

import shlex
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests import services

# shared/ is beside the repository: <repo>/../shared/printrig/printrig.sh
SCRIPT = Path(__file__).resolve().parents[2].parent / "shared" / "printrig" / "printrig.sh"


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
