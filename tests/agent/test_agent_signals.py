"""`printcloud agent run` and signals: the first drains the job printing, a second exits.

(A job CUPS holds already is not waited for: tests/agent/test_agent_crash.py.)"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from printcloud.server.runtime import Runtime
from tests.helpers.printrig import PrintRig
from tests.helpers.server_process import PRINTCLOUD, ServerProcess, create_user


def _wait(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)  # other processes act: only asking them tells when


def test_a_second_signal_exits_at_once_while_the_first_waits_for_the_job(
    database_url: str, runtime: Runtime, printrig: PrintRig, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path / "server"),
        "PRINTCLOUD_DATABASE_URL": database_url,
        "PRINTCLOUD_LOG_LEVEL": "warning",
        "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "agent.json"),
        "PRINTCLOUD_ALLOW_PRIVATE_URLS": "true",
    }
    server = ServerProcess(env, tmp_path / "serve.log")
    agent: subprocess.Popen[bytes] | None = None
    # Where the document is: a server that takes the connection and never answers, so
    # the job is still being fetched, not yet CUPS's, when the signals come.
    stalled = socket.create_server(("127.0.0.1", 0))
    try:
        server.wait_ready()
        create_user(env, "s@example.com")
        assert (
            subprocess.run(
                [
                    *PRINTCLOUD,
                    "agent",
                    "login",
                    "--server",
                    server.url,
                    "--email",
                    "s@example.com",
                    "--password",
                    "s3cret-enough",
                ],
                env=env,
                check=False,
                capture_output=True,
            ).returncode
            == 0
        )
        config = json.loads(Path(env["PRINTCLOUD_AGENT_CONFIG"]).read_text())
        config |= {
            "cups_server": printrig.cups_server,
            "only_printers": ["PDFQ"],
            "allow_private_urls": True,
            "download_timeout": 120,
            "data_dir": str(tmp_path / "agent"),
        }
        Path(env["PRINTCLOUD_AGENT_CONFIG"]).write_text(json.dumps(config))
        agent = subprocess.Popen([*PRINTCLOUD, "agent", "run"], env=env, stderr=subprocess.DEVNULL)
        auth = (config["api_key"], "")
        _wait(lambda: httpx.get(f"{server.url}/api/printers", auth=auth).json())
        printer = httpx.get(f"{server.url}/api/printers", auth=auth).json()[0]["id"]
        job_id = httpx.post(
            f"{server.url}/api/printjobs",
            auth=auth,
            json={
                "printerId": printer,
                "contentType": "pdf_uri",
                "title": "signals",
                "content": f"http://127.0.0.1:{stalled.getsockname()[1]}/invoice.pdf",
            },
        ).json()
        _wait(
            lambda: (
                httpx.get(f"{server.url}/api/printjobs/{job_id}", auth=auth).json()[0]["state"]
                == "printing"
            )
        )

        agent.send_signal(signal.SIGTERM)
        # Another process, whose functions a test cannot call: it is given time to
        # exit, wrongly, before the test sees that it is still there.
        time.sleep(2)
        assert agent.poll() is None  # draining: the job in progress is waited for
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=15) == 130
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        stalled.close()
        server.stop()
