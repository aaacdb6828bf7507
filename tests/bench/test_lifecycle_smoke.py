"""The full-lifecycle driver works end to end (seconds-long smoke; no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "bench.lifecycle"]
STATES = ("sent", "printing", "completed")


def test_smoke_completes_every_job_once_with_three_verified_deliveries(tmp_path: Path) -> None:
    completed = subprocess.run(
        [*COMMAND, "--smoke", "--webhooks", "--json", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [written] = tmp_path.glob("lifecycle-*.json")
    result = json.loads(written.read_text())

    delivery = result["delivery"]
    assert delivery["accepted"] > 0
    assert delivery["completed_by_agents"] == delivery["accepted"]
    assert delivery["lost"] == delivery["delivered_twice_or_more"] == delivery["unexpected"] == 0
    assert delivery["post_failures"] == 0
    assert result["unfinished_after_drain"] == 0

    hooks = result["webhooks"]
    assert hooks["jobs_with_each_state_once"] == delivery["accepted"]
    assert hooks["jobs_short_of_deliveries"] == hooks["jobs_with_a_state_twice"] == 0
    assert hooks["unexpected_jobs"] == 0
    assert hooks["failed_verification"] == 0
    assert hooks["verified"] == 3 * delivery["accepted"]
    assert hooks["states"] == dict.fromkeys(STATES, delivery["accepted"])

    window = result["window"]
    assert window["completed_by_agents"] > 0
    assert (
        window["latency_ms"]["post_to_completed_report"]["count"] == window["completed_by_agents"]
    )
    assert "| lifecycles/s (jobs completed by their agent in the window) |" in completed.stdout
