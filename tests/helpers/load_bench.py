"""``python -m bench.load`` run as a CI job runs it, against this machine's services."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tests.helpers import services

ROOT = Path(__file__).resolve().parents[2]


def run_load_bench(output: Path, *args: str, server_env: dict[str, str] | None = None) -> str:
    """The harness with ``args`` and its results in ``output``; what it printed.

    ``server_env``: settings for the servers (they inherit the harness's environment).
    """
    user = os.environ.get("PRINTCLOUD_TEST_PG_USER", "root")
    host, port = services.POSTGRES_HOST, services.POSTGRES_PORT
    env = {
        **os.environ,
        "PRINTCLOUD_BENCH_PG_DSN": f"postgresql://{user}@{host}:{port}/postgres",
        "PRINTCLOUD_BENCH_REDIS_URL": services.REDIS_URL.rsplit("/", 1)[0] + "/13",
        **(server_env or {}),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load", *args, "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def read_result(output: Path, name: str) -> dict[str, Any]:
    """The ``<name>-latest.json`` the harness wrote."""
    result: dict[str, Any] = json.loads((output / f"{name}-latest.json").read_text())
    return result


def require_cluster_services() -> None:
    """PostgreSQL and Redis, or the test is skipped (failed under CI) with the reason."""
    if not services.reachable(services.POSTGRES_HOST, services.POSTGRES_PORT):
        services.unavailable("PostgreSQL", f"{services.POSTGRES_HOST}:{services.POSTGRES_PORT}")
    redis = make_url(services.REDIS_URL.replace("redis://", "redis+x://", 1))
    if not services.reachable(redis.host or "127.0.0.1", redis.port or 6379):
        services.unavailable("Redis", services.REDIS_URL)
