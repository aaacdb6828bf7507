"""``printcloud`` commands as an operator runs them: a server in a process of its own,
``users create``, and a client login against it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers.live_server import free_port

# The command line of ``printcloud``, run by this Python.
PRINTCLOUD = [sys.executable, "-m", "printcloud"]


def run_printcloud(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``printcloud <args>`` run to its end, with its output captured."""
    return subprocess.run(
        [*PRINTCLOUD, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


class ServerProcess:
    """``printcloud serve`` in a process of its own, as an operator runs it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*PRINTCLOUD, "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._terminated_at = 0.0
        self.shutdown_seconds: float | None = None
        self.killed = False

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start in time"
            try:
                httpx.get(f"{self.url}/api/openapi.json", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)  # another process is starting: only asking again tells
            else:
                return

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye."""
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM: the graceful shutdown a deploy asks for (``wait_stopped`` to see it end)."""
        self._terminated_at = time.monotonic()
        if self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self, timeout: float = 15) -> None:
        """Wait for the exit after ``terminate``, kill -9 past ``timeout``; the time it took
        (SIGTERM to exit) is ``shutdown_seconds``, and ``killed`` says if it had to."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.killed = True
            self.kill()
        self.shutdown_seconds = time.monotonic() - self._terminated_at
        self._log.close()

    def stop(self, timeout: float = 15) -> None:
        self.terminate()
        self.wait_stopped(timeout)


# The password of the users that ``create_user`` makes.
TEST_PASSWORD = "s3cret-enough"


def create_user(env: dict[str, str], email: str, password: str = TEST_PASSWORD) -> None:
    """``printcloud users create``, as an operator runs it, against ``env``'s database."""
    result = run_printcloud(env, "users", "create", "--email", email, "--password", password)
    assert result.returncode == 0, result.stderr


def client_login(url: str, email: str, password: str = TEST_PASSWORD) -> str:
    """A new full API key, from ``POST /api/client/login``."""
    response = httpx.post(f"{url}/api/client/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["apiKey"])
