"""POST /api/printjobs as fast as one server process takes them, driven by wrk.

The load harness's submitters are Python (httpx) on the same 2 cores as the server,
so they cannot offer thousands of requests a second; wrk (C, Debian's ``wrk``)
can. The printer's computer is offline: every job is committed ``pending`` and
nothing else runs, which isolates submission from delivery.

    apt-get install wrk
    .venv/bin/python -m bench.submit_wrk [--connections 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from tests.helpers.server_process import ServerProcess, client_login, create_user
from websockets.sync.client import connect

EMAIL = "wrk@example.com"


def register_printer(ws_url: str, key: str) -> None:
    """Connect once as an agent with one printer, then leave: the printer stays known."""
    with connect(ws_url) as ws:
        hello = {"type": "auth", "apiKey": key, "computerName": "Bench-PC", "os": "Linux"}
        ws.send(json.dumps({**hello, "clientVersion": "bench"}))
        ws.recv()
        printer = {"name": "Bench printer", "capabilities": {}, "isDefault": True}
        ws.send(json.dumps({"type": "printers", "printers": [printer]}))
        ws.recv()


def wrk_script(key: str, printer_id: str) -> str:
    body = json.dumps(
        {"printerId": printer_id, "title": "wrk", "contentType": "raw_base64", "content": "aGk="}
    )
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="printcloud-wrk-") as folder:
        env = {
            **os.environ,
            "PRINTCLOUD_DATA_DIR": folder,
            "PRINTCLOUD_LOG_LEVEL": "warning",
            # One account, so its 10/s limit is lifted: the server's own cost is measured.
            "PRINTCLOUD_RATE_LIMIT": "1000000/s",
        }
        if options.database_url:
            env["PRINTCLOUD_DATABASE_URL"] = options.database_url
        create_user(env, EMAIL)
        server = ServerProcess(env, Path(folder) / "server.log")
        try:
            server.wait_ready()
            key = client_login(server.url, EMAIL)
            register_printer(server.ws_url, key)
            printers = httpx.get(f"{server.url}/api/printers", auth=(key, "")).json()
            script = Path(folder) / "post.lua"
            script.write_text(wrk_script(key, printers[0]["id"]))
            command = ["wrk", "-t1", f"-c{options.connections}", f"-d{options.seconds}s"]
            command += ["--latency", "-s", str(script), f"{server.url}/api/printjobs"]
            database = env.get("PRINTCLOUD_DATABASE_URL") or "SQLite"
            print(f"$ {' '.join(command)}  (one printcloud serve on {database})")
            return subprocess.run(command, check=False).returncode
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
