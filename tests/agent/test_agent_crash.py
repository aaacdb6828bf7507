"""kill -9 of `printcloud agent run` while CUPS holds its job: the agent started again
reports what CUPS did with the job, and the job prints once. A stop (SIGTERM, what a
service manager sends) lets go of such a job at once, to the same end."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.printrig import (
    PrintRig,
    cups_job_waiting,
    run_cups_tool,
    sink_files_with,
    unique_title,
)
from tests.helpers.server_process import PRINTCLOUD, ServerProcess, create_user


def _wait(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)  # other processes act: only asking them tells when
    return found


@pytest.mark.parametrize("stop", ["kill", "terminate"])
def test_a_job_held_in_cups_when_the_agent_stops_is_reported_as_cups_printed_it(
    database_url: str,
    runtime: Runtime,
    printrig: PrintRig,
    paused_queue: str,
    tmp_path: Path,
    stop: str,
) -> None:
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path / "server"),
        "PRINTCLOUD_DATABASE_URL": database_url,
        "PRINTCLOUD_LOG_LEVEL": "warning",
        "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "agent.json"),
    }
    server = ServerProcess(env, tmp_path / "serve.log")
    agents: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start_agent() -> None:
        log = (tmp_path / f"agent-{len(agents)}.log").open("wb")
        logs.append(log)
        agents.append(
            subprocess.Popen(
                [*PRINTCLOUD, "agent", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )

    try:
        server.wait_ready()
        create_user(env, "k@example.com")
        login = subprocess.run(
            [
                *PRINTCLOUD,
                *("agent", "login", "--server", server.url),
                *("--email", "k@example.com", "--password", "s3cret-enough"),
            ],
            env=env,
            check=False,
            capture_output=True,
        )
        assert login.returncode == 0, login.stderr
        config = json.loads(Path(env["PRINTCLOUD_AGENT_CONFIG"]).read_text())
        config |= {
            "cups_server": printrig.cups_server,
            "only_printers": [paused_queue],
            "data_dir": str(tmp_path / "agent"),
        }
        Path(env["PRINTCLOUD_AGENT_CONFIG"]).write_text(json.dumps(config))
        auth = (config["api_key"], "")

        def job() -> dict[str, Any]:
            found: dict[str, Any] = httpx.get(
                f"{server.url}/api/printjobs/{job_id}", auth=auth
            ).json()[0]
            states = httpx.get(f"{server.url}/api/printjobs/{job_id}/states", auth=auth).json()
            found["history"] = [[h["state"], h["message"]] for h in states]
            return found

        start_agent()
        printers = _wait(lambda: httpx.get(f"{server.url}/api/printers", auth=auth).json())
        title = unique_title("killed")
        label = f"^XA^FD{title}^FS^XZ".encode()
        job_id = httpx.post(
            f"{server.url}/api/printjobs",
            auth=auth,
            json={
                "printerId": printers[0]["id"],
                "contentType": "raw_base64",
                "title": title,
                "content": base64.b64encode(label).decode(),
            },
        ).json()
        cups_job = asyncio.run(cups_job_waiting(printrig, paused_queue, title))
        waiting = f"Waiting: printer {paused_queue} is paused (Paused)"
        # The news comes from following the job: CUPS's job id is in the journal by then.
        _wait(lambda: job()["history"][-1] == ["printing", waiting])

        if stop == "kill":
            agents[0].kill()  # kill -9: no goodbye, no report
            agents[0].wait(timeout=10)
        else:
            # A stop waits for the jobs the agent is printing, but this one is CUPS's:
            # it exits at once rather than for as long as the printer stays paused.
            agents[0].terminate()
            assert agents[0].wait(timeout=15) == 0
            assert job()["state"] == "printing"
            log_text = (tmp_path / "agent-0.log").read_text()
            assert "job_left_to_printer" in log_text
        start_agent()
        # Followed again, not guessed: still waiting, nothing reported as failed.
        _wait(lambda: job()["state"] == "printing" and agents[1].poll() is None)
        run_cups_tool(printrig, "cupsenable", paused_queue)

        _wait(lambda: job()["state"] in {"completed", "error"})
        final = job()
        assert final["state"] == "completed", final["history"]
        assert final["history"][-1] == [
            "completed",
            f"Printed on {paused_queue} (CUPS job {cups_job})",
        ]
        assert ["printing", waiting] in final["history"]
        _wait(lambda: sink_files_with(printrig, label))
        assert len(sink_files_with(printrig, label)) == 1
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=10)
        for log in logs:
            log.close()
        server.stop()
