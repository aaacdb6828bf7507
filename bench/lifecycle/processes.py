"""The processes beside the driver: the webhook receiver, and py-spy on the server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import httpx
from bench.lifecycle.receiver import ReceiverClient
from tests.helpers.live_server import free_port


@contextlib.asynccontextmanager
async def receiver_process(folder: Path, timeout: float = 60) -> AsyncIterator[ReceiverClient]:
    """``bench.lifecycle.receiver`` on a free port, until the block ends."""
    port = free_port()
    log_path = folder / "receiver.log"
    with log_path.open("w") as log:
        process = _start_receiver(port, log)
        client = ReceiverClient(f"http://127.0.0.1:{port}", process.pid)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError("the receiver exited: " + log_path.read_text())
                try:
                    await client.count()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)  # still starting: only asking again tells
            yield client
        finally:
            await client.aclose()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start_receiver(port: int, log: IO[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "bench.lifecycle.receiver", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@contextlib.contextmanager
def py_spy(pid: int, seconds: float, out: Path | None) -> Iterator[None]:
    """py-spy's collapsed stacks (``--format raw``) of ``pid`` for ``seconds`` from now."""
    if out is None:
        yield
        return
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("error: py-spy is not installed (.venv/bin/pip install py-spy)")
    duration = str(max(1, round(seconds)))
    command = [found, "record", "--pid", str(pid), "--duration", duration]
    command += ["--format", "raw", "--output", str(out)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 60)
