"""A server killed (kill -9) while webhook deliveries are pending: the next one sends them."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from printcloud.server.runtime import Runtime
from tests.live import ServerProcess, client_login, create_user, free_port


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []  # noqa: RUF012 - one receiver per test, reset by the test

    def do_POST(self) -> None:
        _Hook.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return None


def test_deliveries_pending_at_a_kill_9_are_sent_by_the_next_server(
    database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    # ``runtime`` empties the test database's tables after the test.
    hook_port = free_port()  # nothing listens there yet: every attempt fails for now
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_DATABASE_URL": database_url,
        "PRINTCLOUD_ALLOW_PRIVATE_URLS": "true",
        "PRINTCLOUD_WEBHOOK_POLL_INTERVAL": "0.1",
        "PRINTCLOUD_WEBHOOK_RETRY_SCALE": "0.05",
        "PRINTCLOUD_LOG_LEVEL": "warning",
    }
    create_user(env, "k@example.com")

    first = ServerProcess(env, tmp_path / "first.log")
    try:
        first.wait_ready()
        key = client_login(first.url, "k@example.com")
        webhook = httpx.post(
            f"{first.url}/api/webhooks",
            auth=(key, ""),
            json={"url": f"http://127.0.0.1:{hook_port}/hook", "events": ["all"]},
        ).json()
        with connect(first.ws_url) as socket:  # computer.connected, then .disconnected
            socket.send(json.dumps({"type": "auth", "apiKey": key, "computerName": "PC"}))
            assert json.loads(socket.recv(timeout=10))["type"] == "auth_ok"
        deadline = time.monotonic() + 20
        while True:  # the first attempts failed: the deliveries wait for a retry
            deliveries = httpx.get(
                f"{first.url}/api/webhooks/{webhook['id']}/deliveries", auth=(key, "")
            ).json()
            if len(deliveries) == 2 and all(d["attempts"] for d in deliveries):
                break
            assert time.monotonic() < deadline, deliveries
            time.sleep(0.1)
        first.kill()
    finally:
        first.stop()
    assert all(d["status"] == "pending" for d in deliveries)

    _Hook.received = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", hook_port), _Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    second = ServerProcess(env, tmp_path / "second.log")
    try:
        second.wait_ready()
        deadline = time.monotonic() + 30
        while len(_Hook.received) < 2:
            assert time.monotonic() < deadline, "the pending deliveries were not sent"
            time.sleep(0.1)
    finally:
        second.stop()
        receiver.shutdown()
        receiver.server_close()
    types = sorted(json.loads(body)["type"] for body in _Hook.received)
    assert types == ["computer.connected", "computer.disconnected"]
