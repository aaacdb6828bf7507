"""The per-stage cost bench works end to end (seconds-long smoke; no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["intake", "dispatch", "state reports", "webhook delivery"]
FLOORS = {"commit", "ws_echo", "http_bare", "http_fastapi", "http_client"}


def test_smoke_costs_every_stage_and_every_job_and_delivery_went_through(tmp_path: Path) -> None:
    out = tmp_path / "stage-cost.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.stage_cost", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    jobs = result["jobs"]
    stages = {row["stage"]: row for row in result["stages"]}
    assert list(stages) == STAGES
    for row in stages.values():
        assert row["ok"], row
        assert row["server_cpu_us_per_op"] > 0, row
        assert row["floor_us_per_op"] > 0, row
        assert len(row["rounds"]) == result["rounds"]
        # The table says it too, one row a stage.
        assert f"| {row['stage']} | " in completed.stdout

    for index in range(result["rounds"]):
        intake, dispatch, reports, delivery = (stages[name]["rounds"][index] for name in STAGES)
        assert intake["checks"] == {"created_201": jobs, "other_statuses": {}}
        assert dispatch["checks"]["received_once"] == jobs
        assert reports["checks"]["completed"] == jobs
        assert reports["checks"]["errors"] == []
        assert delivery["operations"] == 3 * jobs
        assert delivery["checks"]["verified"] == 3 * jobs
        assert delivery["checks"]["failed_verification"] == 0
        assert delivery["checks"]["states"] == {"sent": jobs, "printing": jobs, "completed": jobs}

    assert set(result["floors"]) == FLOORS
    for floor in result["floors"].values():
        assert floor["cpu_us_per_op"] > 0, floor
    assert "| stage | operations | server CPU-µs per op | floor | multiple of floor |" in (
        completed.stdout
    )
