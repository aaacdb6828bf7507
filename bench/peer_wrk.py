"""PrintCloud's intake side by side with printpapi's, the same wrk load on both.

printpapi (github LukiPrince/printpapi: a stdlib HTTP server on raw sqlite3) is the
self-hosted peer an integrator would pick instead. Both servers run one process on
a fresh SQLite file with one printer whose computer is offline, so only intake is
measured: ours ``POST /api/printjobs``, theirs ``POST /jobs``, each a 2-byte raw job,
one server after the other in the same run. Every server must accept every request:
the jobs in its database are counted afterwards.

    apt-get install -y wrk
    git clone https://github.com/LukiPrince/printpapi /tmp/printpapi   # never commit it here
    PRINTPAPI_DIR=/tmp/printpapi .venv/bin/python -m bench.peer_wrk [--seconds 10] [--json]

Without ``PRINTPAPI_DIR`` only PrintCloud runs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench.intake import CONTENT, printcloud_intake
from tests.helpers.live_server import free_port

from bench import wrk

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Target:
    """One server ready for the load, and how to count what it kept."""

    name: str
    url: str
    body: str
    headers: dict[str, str]
    pid: int
    stored_jobs: Callable[[], int | None]


@contextmanager
def printcloud() -> Iterator[Target]:
    with printcloud_intake() as intake:
        yield Target(
            "printcloud", intake.url, intake.body, intake.headers, intake.pid, intake.stored_jobs
        )


def _call(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@contextmanager
def printpapi(checkout: Path, folder: Path) -> Iterator[Target]:
    """printpapi started as its README says, with one printer registered as its agent
    does (``POST /agent/register``) and then left alone: its jobs stay ``queued``."""
    token = secrets.token_urlsafe(24)
    port = free_port()
    database = folder / "printpapi.db"
    env = {
        **os.environ,
        "PRINTAPI_TOKEN": token,
        "PRINT_DB": str(database),
        "PRINT_PORT": str(port),
        # Their checkout stays as cloned: no __pycache__ written into it.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    url = f"http://127.0.0.1:{port}"
    with (folder / "printpapi.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.server"],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(process, f"{url}/health", folder / "printpapi.log")
            # Their keys are issued by the bootstrap token; one for the agent, one for the
            # integration that submits, as their docs/api.md sets an org up.
            agent_key = _call(f"{url}/apikeys", token, {"label": "bench-agent"})["key"]
            client_key = _call(f"{url}/apikeys", token, {"label": "bench-client"})["key"]
            printers = [{"name": "Bench printer"}]
            registered = _call(
                f"{url}/agent/register", agent_key, {"name": "Bench-PC", "printers": printers}
            )
            body = {
                "printer_id": registered["printer_ids"]["Bench printer"],
                "title": "wrk",
                "type": "raw_base64",
                "content": CONTENT,
            }

            def stored_jobs() -> int:
                with sqlite3.connect(database) as db:
                    row = db.execute("SELECT count(*) FROM jobs WHERE state = 'queued'").fetchone()
                    return int(row[0])

            yield Target(
                "printpapi",
                f"{url}/jobs",
                json.dumps(body),
                {"Content-Type": "application/json", "Authorization": f"Bearer {client_key}"},
                process.pid,
                stored_jobs,
            )
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"printpapi exited:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError("printpapi did not start in 30 s")
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)  # still starting: only asking again tells
        else:
            return


def measure(
    target: Target, load: wrk.Load, folder: Path, profile: Path | None = None
) -> dict[str, Any]:
    script = folder / f"{target.name}.lua"
    script.write_text(wrk.post_script(target.body, target.headers))
    load_average = os.getloadavg()
    print(f"\n== {target.name}  (load average before: {_loadavg(load_average)})")
    print("$ " + " ".join(wrk.command(target.url, script, load)))
    with _py_spy(target.pid, load.seconds, profile):
        result, report = wrk.run(target.url, script, load)
    print(report)
    stored = target.stored_jobs()
    # A 2xx the server did not keep would be a lie; wrk stops with requests in flight,
    # so the database may hold a few more than wrk counted, never fewer.
    accepted = (
        result.non_2xx == 0 and result.socket_errors == 0 and (stored or 0) >= result.requests
    )
    return {
        "server": target.name,
        "load_average_before": [round(value, 2) for value in load_average],
        **result.as_dict(),
        "stored_jobs": stored,
        "all_accepted": accepted,
    }


@contextmanager
def _py_spy(pid: int, seconds: int, out: Path | None) -> Iterator[None]:
    """py-spy's collapsed stacks (``--format raw``) of ``pid`` while the block runs."""
    if out is None:
        yield
        return
    command = [_py_spy_path(), "record", "--pid", str(pid), "--duration", str(seconds)]
    command += ["--format", "raw", "--output", str(out)]
    print("$ " + " ".join(command))
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 30)


def _py_spy_path() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("error: py-spy is not installed (.venv/bin/pip install py-spy)")
    return found


def _loadavg(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _commit(folder: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    completed = subprocess.run(
        [git, "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return completed.stdout.strip() or None


def summary(rows: list[dict[str, Any]]) -> str:
    lines = [
        "",
        "| server | requests/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| jobs stored / requests |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['server']} | {row['rate']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {row['non_2xx']} | {row['socket_errors']} "
            f"| {row['stored_jobs']} / {row['requests']} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        metavar="OUT",
        help="write the results as JSON to OUT (default: bench/results/peer-wrk-<time>.json)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="OUT",
        help="py-spy's collapsed stacks of PrintCloud's server during its run (its figures "
        "then carry the sampling's cost); summarise with python -m bench.profile_summary OUT",
    )
    options = parser.parse_args()
    if not wrk.available():
        print(f"error: {wrk.MISSING}", file=sys.stderr)
        return 1
    load = wrk.Load(options.threads, options.connections, options.seconds)
    peer_dir = os.environ.get("PRINTPAPI_DIR", "")
    if peer_dir and not (Path(peer_dir) / "app" / "server.py").is_file():
        print(f"error: PRINTPAPI_DIR={peer_dir} is not a printpapi checkout", file=sys.stderr)
        return 1
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="peer-wrk-") as name:
        folder = Path(name)
        with printcloud() as ours:
            rows.append(measure(ours, load, folder, options.profile))
        if peer_dir:
            with printpapi(Path(peer_dir).resolve(), folder) as theirs:
                rows.append(measure(theirs, load, folder))
        else:
            print(
                "\nnote: PRINTPAPI_DIR is not set: printpapi skipped (a checkout of "
                "github LukiPrince/printpapi runs it side by side)"
            )
    print(summary(rows))
    ratio = rows[0]["rate"] / rows[1]["rate"] if len(rows) == 2 else None
    if ratio is not None:
        print(f"\nratio printcloud / printpapi: {ratio:.2f}x")
    failed = [row["server"] for row in rows if not row["all_accepted"]]
    for server in failed:
        print(f"error: {server} did not accept every request (see the table)", file=sys.stderr)
    if options.json is not None:
        out = (
            Path(options.json)
            if options.json
            else RESULTS / datetime.now(UTC).strftime("peer-wrk-%Y%m%d-%H%M%S.json")
        )
        document = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "load": {
                "threads": load.threads,
                "connections": load.connections,
                "seconds": load.seconds,
            },
            "cpus": os.cpu_count(),
            "printcloud_commit": _commit(Path(__file__).parent),
            "printpapi_commit": _commit(Path(peer_dir)) if peer_dir else None,
            "results": rows,
            "ratio": round(ratio, 3) if ratio is not None else None,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
