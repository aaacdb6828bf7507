"""A Redis or a PostgreSQL of a test's own, on a free port, that the test may stop, kill
(SIGKILL) and start again on the same port: the shared ones of the machine are never
touched.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs as the
``postgres`` user of the Debian packages (the child process switches to it before it
runs anything), in a directory of its own under the system's temporary directory
that this user may enter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.helpers import services
from tests.helpers.live_server import free_port

_STARTUP_TIMEOUT = 30.0


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def _wait_ready(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], port: int, log: Path
) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not listening on {port} after {_STARTUP_TIMEOUT:g} s")
        time.sleep(0.05)  # another process is starting: only asking again tells


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} still alive")
        time.sleep(0.02)


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True


def _as_user(user: str | None) -> dict[str, Any]:
    """Popen's arguments that run the child as ``user`` when this process is root (the
    child itself is then the server: signals reach it, and this process reaps it)."""
    if user is None or os.geteuid() != 0:
        return {}
    return {"user": user, "group": user, "extra_groups": []}


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (PostgreSQL's backends call setsid: no process group
    holds them all)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


class _Service:
    """A server process on ``port``: start, stop (SIGTERM), kill (SIGKILL), start again."""

    name = "service"
    # What asks the server to shut down cleanly.
    stop_signal = signal.SIGTERM

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.log = directory / f"{self.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    user: str | None = None  # the user the server runs as, when this process is root

    def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_user(self.user),
            )
        _wait_ready(self._ready, self._process, self.port, self.log)

    def _ready(self) -> bool:
        return _listening(self.port)

    def _signal(self, signum: signal.Signals) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        pids = [process.pid, *_children(process.pid)]
        for pid in pids if signum == signal.SIGKILL else pids[:1]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        process.wait(timeout=_STARTUP_TIMEOUT)
        _wait_gone(pids)
        self._process = None

    def signal(self, signum: signal.Signals) -> None:
        """Send the server ``signum`` (SIGSTOP: it takes connections and never answers)."""
        assert self._process is not None
        os.kill(self._process.pid, signum)

    def stop(self) -> None:
        """A clean shutdown, as the service's own tools ask for it."""
        self._signal(self.stop_signal)

    def kill(self) -> None:
        """kill -9 of the server and every process it started: a crash."""
        self._signal(signal.SIGKILL)


class PrivateRedis(_Service):
    name = "redis"

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            services.unavailable("redis-server (Debian's redis-server package)", "PATH")
        super().__init__(directory)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        return [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip


_PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))


class PrivatePostgres(_Service):
    """A throw-away cluster: trust authentication for ``root``, no fsync (a killed
    server's commits are still in the kernel's cache, so a kill loses nothing)."""

    name = "postgres"
    user = "postgres"
    # SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to leave;
    # SIGINT is pg_ctl's "fast" one, which ends their sessions.
    stop_signal = signal.SIGINT

    def __init__(self, directory: Path) -> None:
        if not _PG_BIN:
            services.unavailable("PostgreSQL's server programs", "/usr/lib/postgresql/*/bin")
        super().__init__(directory)
        self._bin = _PG_BIN[-1].parent
        self.data = directory / "data"
        subprocess.run(
            [str(self._bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "root",
             "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            **_as_user(self.user),
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://root@127.0.0.1:{self.port}/{database}"

    def _ready(self) -> bool:
        # Listening comes before accepting sessions ("the database system is starting up").
        isready = [str(self._bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(isready, check=False).returncode == 0

    def _command(self) -> list[str]:
        return [str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.directory), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off"]  # fmt: skip


@contextlib.contextmanager
def private_directory() -> Iterator[Path]:
    """A directory the services may write to (PostgreSQL's user too, when run as root)."""
    directory = Path(tempfile.mkdtemp(prefix="printcloud-services-"))
    try:
        if os.geteuid() == 0:
            with contextlib.suppress(LookupError):  # no postgres user: no PostgreSQL here
                shutil.chown(directory, "postgres")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    with private_directory() as directory:
        redis = PrivateRedis(directory)
        redis.start()
        try:
            yield redis
        finally:
            redis.kill()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    with private_directory() as directory:
        postgres = PrivatePostgres(directory)
        postgres.start()
        try:
            yield postgres
        finally:
            postgres.kill()
