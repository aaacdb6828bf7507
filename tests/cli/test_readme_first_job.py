"""The README's "first print job" block, run word for word against a fresh server, as a
newcomer pastes it: it must wait for the agent's printer and end with the printed file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.server_process import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
PRINTED = "Hello from PrintCloud"


def first_job_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Your first print job", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the README's first-print-job section lost its sh block"
    return match.group(1)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[dict[str, str], ServerProcess]]:
    """A server with an empty database, and the environment a newcomer's shell has: the
    repository's .venv, and their own data and agent configuration (here, in tmp_path)."""
    assert (ROOT / ".venv/bin/printcloud").exists(), "the block runs .venv/bin/printcloud"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRINTCLOUD_")},
        "PRINTCLOUD_DATA_DIR": str(tmp_path / "server"),
        "PRINTCLOUD_AGENT_CONFIG": str(tmp_path / "agent" / "agent.json"),
        "PRINTCLOUD_LOG_LEVEL": "warning",
    }
    server = ServerProcess(env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        # The block's server address: 8080 unless PRINTCLOUD_URL says otherwise.
        yield {**env, "PRINTCLOUD_URL": server.url}, server
    finally:
        server.stop()


def test_the_readme_first_print_job_block_prints(
    fresh: tuple[dict[str, str], ServerProcess],
) -> None:
    env, server = fresh
    log = server.log_path.with_name("block.log")
    # Its own session: the block leaves the agent running in the background (`&`), and
    # the agent keeps the block's output open: a file, not a pipe, read once it ends.
    with log.open("w") as out:
        shell = subprocess.Popen(
            ["bash", "-c", first_job_block()],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            shell.wait(timeout=120)
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
    output = log.read_text()
    assert shell.returncode == 0, output
    job_id = re.search(r"^job: (pj_\w+)$", output, re.MULTILINE)
    assert job_id, output
    assert PRINTED in output.splitlines(), output  # what `cat` showed
    paper = Path(f"/tmp/printcloud-demo/{job_id.group(1)}.bin")  # noqa: S108 - the README's
    assert paper.read_text() == PRINTED + "\n"
    assert '"state":"completed"' in output.replace(" ", ""), output
