"""wrk (C, Debian's ``wrk``) driving one POST at a server, with its figures read back.

wrk's own report is for people; a Lua ``done()`` hook prints the same summary as one
JSON line, so the drivers read numbers rather than parse "1.23ms" text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MISSING = "wrk is not installed (Debian: apt-get install -y wrk)"

# The prefix of the line that _DONE prints; wrk's own report never starts with it.
_MARK = "WRK-JSON "

_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write("WRK-JSON ", string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    threads: int = 2
    connections: int = 16
    seconds: int = 10


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # Responses with a status of 400 or more (wrk's "Non-2xx or 3xx responses").
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def available() -> bool:
    return shutil.which("wrk") is not None


def post_script(body: str, headers: dict[str, str]) -> str:
    """A wrk Lua script that sends ``body`` as a POST with ``headers`` on every request."""
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
    lines += [
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()
    ]
    return "\n".join(lines) + _DONE


def parse(output: str) -> Result:
    """The summary line that ``post_script``'s done() printed in wrk's output."""
    line = next((line for line in output.splitlines() if line.startswith(_MARK)), None)
    if line is None:
        raise ValueError(f"wrk printed no summary:\n{output}")
    raw = json.loads(line[len(_MARK) :])
    seconds = raw["duration_us"] / 1e6
    socket_errors = sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return Result(
        requests=raw["requests"],
        seconds=round(seconds, 3),
        rate=round(raw["requests"] / seconds, 1),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        non_2xx=raw["status_errors"],
        socket_errors=socket_errors,
    )


def command(url: str, script: Path, load: Load) -> list[str]:
    return [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]


def run(url: str, script: Path, load: Load) -> tuple[Result, str]:
    """Runs wrk to its end; its figures, and its own report for people."""
    completed = subprocess.run(
        command(url, script, load), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    report = "\n".join(line for line in completed.stdout.splitlines() if not line.startswith(_MARK))
    return parse(completed.stdout), report
