"""The run as a Markdown table, and its JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WAITS = {"post": "201", "lifecycle": "completed report", "webhook": "completed webhook"}


def markdown(result: dict[str, Any]) -> str:
    options, window = result["options"], result["window"]
    latency = window["latency_ms"]
    delivery, hooks = result["delivery"], result["webhooks"]
    cpu = result["cpu_percent"]
    title = (
        f"Full lifecycles, closed loop (embedded, commit {result['commit']}): "
        f"{options['agents']} agents, {options['submitters']} submitters waiting for the "
        f"{WAITS[options['wait_for']]}, "
        f"{'3 webhook deliveries a job' if options['webhooks'] else 'no webhooks'}, "
        f"{result['window_seconds']:g} s after {options['warmup']:g} s of warm-up"
    )
    rows = [
        (
            "lifecycles/s (jobs completed by their agent in the window)",
            f"**{window['lifecycles_per_s']:,}**",
        ),
        ("POST→201/s", f"{window['posted_per_s']:,}"),
        ("queue growth in the window (201s − completions)", f"{window['backlog_growth']:,}"),
        ("POST→201 p50 / p99 ms", _pair(latency["post_201"])),
        ("POST→`completed` report p50 / p99 ms", _pair(latency["post_to_completed_report"])),
    ]
    if options["webhooks"]:
        rows += [
            ("webhook deliveries/s (verified)", f"{window['webhook_deliveries_per_s']:,}"),
            (
                "deliveries per completed job (in the window)",
                str(window["webhook_deliveries_per_completed_job"]),
            ),
            (
                "lifecycles/s the webhooks kept up with",
                f"**{window['sustained_lifecycles_per_s']:,}**",
            ),
            ("POST→`completed` webhook p50 / p99 ms", _pair(latency["post_to_completed_webhook"])),
        ]
    rows += [
        ("server CPU (one process)", f"{cpu['server_cpu_percent']:g} %"),
        ("server CPU per completed job", f"{window['server_cpu_ms_per_lifecycle']} ms"),
        *(
            [("webhook receiver CPU (its own process)", f"{cpu['receiver_cpu_percent']:g} %")]
            if "receiver_cpu_percent" in cpu
            else []
        ),
        (
            "driver CPU / machine CPU (200 % = 2 cores)",
            f"{cpu['generator_cpu_percent']:g} % / {cpu['machine_cpu_percent']:g} %",
        ),
        (
            "load average before (1, 5, 15 min)",
            ", ".join(f"{v:.2f}" for v in result["load_average_before"]),
        ),
        ("drain after the window", f"{result['drain_seconds']:g} s"),
        (
            "jobs accepted / completed by agents / lost / delivered twice / unexpected",
            f"{delivery['accepted']:,} / {delivery['completed_by_agents']:,} / "
            f"{delivery['lost']} / {delivery['delivered_twice_or_more']} / "
            f"{delivery['unexpected']}",
        ),
        ("POST failures", str(delivery["post_failures"])),
    ]
    if hooks is not None:
        rows.append(
            (
                "jobs with sent, printing, completed each verified once / short / a state twice",
                f"{hooks['jobs_with_each_state_once']:,} / {hooks['jobs_short_of_deliveries']} / "
                f"{hooks['jobs_with_a_state_twice']}",
            )
        )
        rows.append(
            (
                "signatures verified / failed",
                f"{hooks['verified']:,} / {hooks['failed_verification']}",
            )
        )
    lines = [title, "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"


def write_json(result: dict[str, Any], folder: Path, stamp: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"lifecycle-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def _pair(summary: dict[str, Any]) -> str:
    if not summary["count"]:
        return "—"
    return f"{summary['p50']:,.1f} / {summary['p99']:,.1f}"
