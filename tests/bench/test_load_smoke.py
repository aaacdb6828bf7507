"""The load harness works end to end (seconds-long smoke; no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.load_bench import read_result, require_cluster_services, run_load_bench

LATENCIES = {"post_201", "post_to_agent", "post_to_completed_webhook", "generator_lag"}
PERCENTILES = {"count", "p50", "p90", "p99", "max"}


def run_smoke(shape: str, output: Path) -> tuple[dict, str]:
    stdout = run_load_bench(output, "--smoke", "--shape", shape)
    return read_result(output, shape), stdout


def check_result(result: dict, stdout: str, output: Path, shape: str) -> None:
    assert {"floor", "memory", "load", "preload", "restart", "delivery", "webhooks"} <= set(result)
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
    assert result["restart"]["all_agents_back"]
    assert result["restart"]["queued_jobs"] == result["options"]["queued"]
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
    require_cluster_services()
    result, stdout = run_smoke("cluster", tmp_path)
    check_result(result, stdout, tmp_path, "cluster")
    assert len(result["memory"]["server_samples"]) > 1
