"""One ``printcloud serve`` ready to take ``POST /api/printjobs`` for a printer whose
computer is offline: every job is committed ``pending`` and nothing else runs, which
isolates intake from delivery. Shared by the wrk drivers."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.helpers.server_process import ServerProcess, client_login, create_user
from websockets.sync.client import connect

EMAIL = "wrk@example.com"
# The smallest raw job: "hi".
CONTENT = "aGk="
COMPUTER = "Bench-PC"
PRINTER = "Bench printer"


@dataclass(frozen=True)
class Intake:
    """What a driver needs of a server under test: where to POST, what, and how to
    count afterwards the jobs it really kept."""

    url: str
    body: str
    headers: dict[str, str]
    pid: int
    database: str
    sqlite_path: Path | None
    # For drivers that go past intake: the server, its agent socket, the account's key,
    # and the computer and printer registered (an agent connecting as that computer
    # with that printer gets the jobs).
    base_url: str
    ws_url: str
    api_key: str
    computer_name: str = COMPUTER
    printer_name: str = PRINTER

    def stored_jobs(self) -> int | None:
        """Jobs in the database (SQLite only: ``None`` on another database)."""
        if self.sqlite_path is None:
            return None
        with sqlite3.connect(self.sqlite_path) as db:
            return int(db.execute("SELECT count(*) FROM print_jobs").fetchone()[0])


def register_printer(ws_url: str, key: str) -> None:
    """Connect once as an agent with one printer, then leave: the printer stays known."""
    with connect(ws_url) as ws:
        hello = {"type": "auth", "apiKey": key, "computerName": COMPUTER, "os": "Linux"}
        ws.send(json.dumps({**hello, "clientVersion": "bench"}))
        ws.recv()
        printer = {"name": PRINTER, "capabilities": {}, "isDefault": True}
        ws.send(json.dumps({"type": "printers", "printers": [printer]}))
        ws.recv()


@contextmanager
def printcloud_intake(
    database_url: str = "", settings: dict[str, str] | None = None
) -> Iterator[Intake]:
    """A fresh server (default: on a new SQLite file), one account, its offline printer.

    ``settings``: more ``PRINTCLOUD_*`` variables for the server, over these defaults.
    """
    with tempfile.TemporaryDirectory(prefix="printcloud-wrk-") as folder:
        env = {
            **os.environ,
            "PRINTCLOUD_DATA_DIR": folder,
            "PRINTCLOUD_LOG_LEVEL": "warning",
            # One account, so its 10/s limit is lifted: the server's own cost is measured.
            "PRINTCLOUD_RATE_LIMIT": "1000000/s",
            **(settings or {}),
        }
        if database_url:
            env["PRINTCLOUD_DATABASE_URL"] = database_url
        create_user(env, EMAIL)
        server = ServerProcess(env, Path(folder) / "server.log")
        try:
            server.wait_ready()
            key = client_login(server.url, EMAIL)
            register_printer(server.ws_url, key)
            printers = httpx.get(f"{server.url}/api/printers", auth=(key, "")).json()
            body = {
                "printerId": printers[0]["id"],
                "title": "wrk",
                "contentType": "raw_base64",
                "content": CONTENT,
            }
            auth = base64.b64encode(f"{key}:".encode()).decode()
            yield Intake(
                url=f"{server.url}/api/printjobs",
                body=json.dumps(body),
                headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
                pid=server.process.pid,
                database="SQLite" if not database_url else database_url.split(":", 1)[0],
                sqlite_path=None if database_url else Path(folder) / "printcloud.db",
                base_url=server.url,
                ws_url=server.ws_url,
                api_key=key,
            )
        finally:
            server.stop()
