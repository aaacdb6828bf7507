"""The load harness's restarts alone (``--scenario restart``): seconds-long smoke runs whose
counts must agree with each other; no timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.load_bench import read_result, require_cluster_services, run_load_bench

AGENTS = 20
# Two agents connecting at a time: the others are told to try again later (1013), so the
# run shows the agents coming back on the server's hint, counted as refused, not failed.
SERVER_ENV = {"PRINTCLOUD_WS_MAX_HANDSHAKES": "2"}


def run_restarts(shape: str, output: Path) -> dict:
    stdout = run_load_bench(
        output, "--smoke", "--scenario", "restart", "--shape", shape, server_env=SERVER_ENV
    )
    result = read_result(output, f"{shape}-restart")
    assert (output / f"{shape}-restart-latest.md").read_text() in stdout
    assert (output / f"{shape}-restart.png").stat().st_size > 0
    return result


def check_restart(result: dict, servers: int) -> None:
    assert result["options"]["agents"] == AGENTS
    assert "load" not in result  # the restarts alone: no ladder before them
    restart = result["restart"]
    assert len(restart["shutdown_seconds"]) == servers
    assert result["server_settings"]["PRINTCLOUD_WS_MAX_HANDSHAKES"] == "2"
    # Every agent back, after refusals ("try again later") but no failure.
    assert restart["all_agents_back"]
    assert restart["agents_back"] == AGENTS
    assert restart["handshakes"]["refused"] > 0
    assert restart["handshakes"]["failed"] == 0, restart["handshakes"]
    assert restart["handshakes"]["disconnects"] >= AGENTS  # each agent's server went away
    # Every queued job delivered once and completed.
    assert restart["queued_jobs"] == result["options"]["queued"] == AGENTS
    assert restart["queue_failures"] == {}
    assert restart["delivered"] == AGENTS
    assert restart["lost"] == restart["duplicates"] == restart["not_finished"] == 0
    # The series end where the totals say.
    series = restart["series"]
    assert series["agents_back"][-1] == [restart["agents_back_seconds"], AGENTS]
    assert series["jobs_delivered"][-1] == [restart["jobs_delivered_seconds"], AGENTS]


def test_embedded_restart_brings_every_agent_and_queued_job_back(tmp_path: Path) -> None:
    result = run_restarts("embedded", tmp_path)
    check_restart(result, servers=1)
    assert "rolling_restart" not in result  # one server: nothing to roll
    assert result["delivery"]["lost"] == result["delivery"]["duplicates"] == 0


@pytest.mark.postgres
@pytest.mark.redis
def test_cluster_restarts_lose_nothing_and_every_agent_fails_over(tmp_path: Path) -> None:
    require_cluster_services()
    result = run_restarts("cluster", tmp_path)
    check_restart(result, servers=2)
    rolling = result["rolling_restart"]
    assert [(e["event"], e["server"]) for e in rolling["events"]] == [
        ("drain", 0), ("SIGTERM", 0), ("back", 0), ("drain", 1), ("SIGTERM", 1), ("back", 1),
    ]  # fmt: skip
    assert len(rolling["shutdown_seconds"]) == 2
    # Jobs flowed throughout, none refused by a server on its way down, none lost.
    assert rolling["posts"] == rolling["accepted"] > 0
    assert rolling["failed_posts"] == 0, rolling["post_failures"]
    # A job ended while its server stopped shows when it was sent, beside the events.
    unfinished = {k: rolling[k] for k in ("not_finished_states", "not_finished_by_second")}
    assert rolling["lost"] == rolling["duplicates"] == rolling["not_finished"] == 0, unfinished
    assert rolling["delivered"] == rolling["accepted"]
    # By the second step every agent was on the server going away, and all came back
    # through the other one.
    assert rolling["agents_offline"] == AGENTS
    assert rolling["agents_not_back"] == 0
    assert rolling["all_agents_back"]
    assert rolling["handshakes"]["failed"] == 0, rolling["handshakes"]
    assert rolling["offline_seconds"]["max"] >= rolling["offline_seconds"]["p99"] > 0
    assert rolling["series"]["jobs_delivered"][-1][1] == rolling["accepted"]
    assert (tmp_path / "cluster-rolling-restart.png").stat().st_size > 0
    assert result["delivery"]["lost"] == result["delivery"]["duplicates"] == 0
