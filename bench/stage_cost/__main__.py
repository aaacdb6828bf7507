from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.intake import Intake, printcloud_intake
from bench.stage_cost import __doc__ as about
from bench.stage_cost import floors as floor_measures
from bench.stage_cost.floors import Floor
from bench.stage_cost.report import document, markdown
from bench.stage_cost.stages import JobPath, StageResult

RESULTS = Path(__file__).resolve().parents[1] / "results"
SERVER_SETTINGS = {
    # The webhook receiver is on loopback.
    "PRINTCLOUD_ALLOW_PRIVATE_URLS": "1",
    # Deliveries wait at the receiver's gate until the stage before is over: longer than
    # that, so that none is timed out and retried.
    "PRINTCLOUD_WEBHOOK_TIMEOUT": "300",
}


async def run(
    intake: Intake, options: argparse.Namespace, folder: Path
) -> tuple[dict[str, list[StageResult]], dict[str, list[Floor]]]:
    """Every stage, then every floor, once a round: a floor is measured under the same
    conditions as the stages next to it."""
    stages: dict[str, list[StageResult]] = defaultdict(list)
    floors: dict[str, list[Floor]] = defaultdict(list)
    path = JobPath(intake, options.clients)
    if options.profile:
        options.profile.mkdir(parents=True, exist_ok=True)
    try:
        # Not counted: the first requests, messages and commits of a process pay for its
        # lazy set-up (imports, compiled statements, pools).
        ids, _ = await path.submit(options.warmup)
        await path.dispatch_stage(ids)
        await path.reports_stage(ids)
        for round_ in range(options.rounds):
            await path.agent.stop()
            await path.offline()
            # The first round only: py-spy's files are per stage.
            path.profile = options.profile if round_ == 0 else None
            intake_result, ids = await path.intake_stage(options.jobs)
            for result in (
                intake_result,
                await path.dispatch_stage(ids),
                await path.reports_stage(ids),
                await path.webhook_stage(options.jobs),
            ):
                stages[result.stage].append(result)
            measured = await floor_measures.measure_all(
                folder,
                options.database_url,
                options.floor_operations,
                options.clients,
                intake.body.encode(),
            )
            for key, floor in measured.items():
                floors[key].append(floor)
    finally:
        await path.aclose()
    return stages, floors


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(about or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--jobs", type=int, default=500, help="jobs a stage and round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="every stage and floor this many times"
    )
    parser.add_argument(
        "--database-url", default="", help="an empty database (default: a fresh SQLite file)"
    )
    parser.add_argument("--clients", type=int, default=8, help="keep-alive connections")
    parser.add_argument(
        "--floor-operations", type=int, default=1000, help="operations a floor and round"
    )
    parser.add_argument("--warmup", type=int, default=100, help="jobs of the uncounted round")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy's stacks of the server during each stage of the first round, "
        "DIR/<stage>.txt (its figures then carry the sampling's cost); summarise with "
        "python -m bench.profile_summary FILE",
    )
    parser.add_argument("--smoke", action="store_true", help="a few jobs: seconds, for tests")
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        metavar="OUT",
        help="write the results to OUT (default: bench/results/stage-cost-<time>.json)",
    )
    options = parser.parse_args()
    if options.smoke:
        options.jobs, options.floor_operations, options.warmup = 30, 200, 10
        options.rounds = min(options.rounds, 2)
    return options


def main() -> int:
    options = _options()
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="stage-cost-") as name,
        printcloud_intake(options.database_url, SERVER_SETTINGS) as intake,
    ):
        # The commit floor's file goes beside the server's database: the same disk.
        folder = intake.sqlite_path.parent if intake.sqlite_path else Path(name)
        stages, floors = asyncio.run(run(intake, options, folder))
    load_after = os.getloadavg()
    print(markdown(stages, floors))
    print(
        f"\n{options.jobs} jobs a stage, {options.rounds} rounds, one printcloud serve on "
        f"{intake.database}; load "
        f"average before {_loadavg(load_before)}, after {_loadavg(load_after)} "
        f"({os.cpu_count()} cores)"
    )
    failed = [result for results in stages.values() for result in results if not result.ok]
    for result in failed:
        print(f"error: {result.stage}: {json.dumps(result.checks)}", file=sys.stderr)
    if options.json is not None:
        out = (
            Path(options.json)
            if options.json
            else RESULTS / started.strftime("stage-cost-%Y%m%d-%H%M%S.json")
        )
        context: dict[str, Any] = {
            "time": started.isoformat(timespec="seconds"),
            "commit": _commit(),
            "database": intake.database,
            "jobs": options.jobs,
            "rounds": options.rounds,
            "clients": options.clients,
            "cpus": os.cpu_count(),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in load_after],
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document(stages, floors, context), indent=2) + "\n")
        print(f"results: {out}")
    return 1 if failed else 0


def _loadavg(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _commit() -> str | None:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a user runs it
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    )
    return completed.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
