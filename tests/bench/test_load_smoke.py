"""The load harness works end to end (seconds-long smoke; no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.helpers import services

ROOT = Path(__file__).resolve().parents[2]
LATENCIES = {"post_201", "post_to_agent", "post_to_completed_webhook", "generator_lag"}
PERCENTILES = {"count", "p50", "p90", "p99", "max"}


def run_smoke(shape: str, output: Path) -> tuple[dict, str]:
    user = os.environ.get("PRINTCLOUD_TEST_PG_USER", "root")
    host, port = services.POSTGRES_HOST, services.POSTGRES_PORT
    env = {
        **os.environ,
        "PRINTCLOUD_BENCH_PG_DSN": f"postgresql://{user}@{host}:{port}/postgres",
        "PRINTCLOUD_BENCH_REDIS_URL": services.REDIS_URL.rsplit("/", 1)[0] + "/13",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load", "--smoke", "--shape", shape, "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((output / f"{shape}-latest.json").read_text()), completed.stdout


def check_result(result: dict, stdout: str, output: Path, shape: str) -> None:
    assert {"floor", "memory", "load", "preload", "reconnect", "delivery", "webhooks"} <= set(
        result
    )
    assert {"ws_echo", "db_commit"} <= set(result["floor"])
    for step in result["load"]:
        assert set(step["latency_ms"]) == LATENCIES
        for summary in step["latency_ms"].values():
            assert set(summary) == PERCENTILES
        assert step["failures"] == {}
        assert step["not_finished"] == 0
    phases = [step["phase"] for step in result["load"]]
    assert phases.count("ladder") == len(result["options"]["rates"])
    # Exactly once: every accepted job reached an agent once, and nothing else arrived.
    delivery = result["delivery"]
    assert delivery["accepted"] > 0
    assert delivery["delivered"] == delivery["accepted"]
    assert delivery["lost"] == delivery["duplicates"] == delivery["unexpected"] == 0
    assert delivery["completed_webhooks"] == delivery["accepted"]
    assert result["reconnect"]["all_agents_back"]
    assert result["reconnect"]["queued_jobs"] == result["options"]["queued"]
    assert result["webhooks"]["verified"] > 0
    assert result["webhooks"]["failed_verification"] == 0
    assert result["memory"]["per_agent_bytes"] is not None
    assert "| phase | offered/s |" in stdout
    assert (output / f"{shape}-latest.md").read_text() in stdout
    assert (output / f"{shape}-latency.png").stat().st_size > 0
    assert (output / f"{shape}-memory.png").stat().st_size > 0


def test_embedded_smoke_runs_and_delivers_every_job_once(tmp_path: Path) -> None:
    result, stdout = run_smoke("embedded", tmp_path)
    check_result(result, stdout, tmp_path, "embedded")


@pytest.mark.postgres
@pytest.mark.redis
def test_cluster_smoke_runs_and_delivers_every_job_once(tmp_path: Path) -> None:
    if not services.reachable(services.POSTGRES_HOST, services.POSTGRES_PORT):
        services.unavailable("PostgreSQL", f"{services.POSTGRES_HOST}:{services.POSTGRES_PORT}")
    redis = make_url(services.REDIS_URL.replace("redis://", "redis+x://", 1))
    if not services.reachable(redis.host or "127.0.0.1", redis.port or 6379):
        services.unavailable("Redis", services.REDIS_URL)
    result, stdout = run_smoke("cluster", tmp_path)
    check_result(result, stdout, tmp_path, "cluster")
    assert len(result["memory"]["server_samples"]) > 1
