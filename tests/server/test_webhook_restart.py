"""A server killed (kill -9) while webhook deliveries are pending: the next one sends them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from printcloud.server.runtime import Runtime
from tests.helpers.live_server import free_port
from tests.helpers.server_process import ServerProcess, client_login, create_user
from tests.helpers.webhooks import webhook_receiver_thread


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
            time.sleep(0.1)  # the server process's worker acts: only its API tells when
        first.kill()
    finally:
        first.stop()
    assert all(d["status"] == "pending" for d in deliveries)

    with webhook_receiver_thread(hook_port) as receiver:
        second = ServerProcess(env, tmp_path / "second.log")
        try:
            second.wait_ready()
            deadline = time.monotonic() + 30
            while len(receiver.received) < 2:
                assert time.monotonic() < deadline, "the pending deliveries were not sent"
                time.sleep(0.1)  # another process delivers: only the receiver tells when
        finally:
            second.stop()
    types = sorted(json.loads(body)["type"] for body in receiver.received)
    assert types == ["computer.connected", "computer.disconnected"]
