"""The results of a run: a JSON file, a markdown table and PNG plots in the output folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from bench.load import restart_report

LATENCIES = {
    "post_201": "POST→201",
    "post_to_agent": "POST→agent",
    "post_to_completed_webhook": "POST→completed webhook",
}


def write(result: dict[str, Any], output: Path, stamp: str) -> list[Path]:
    """Write the shape's JSON, markdown and plots (and ``<shape>-latest.*`` copies).

    The restarts alone are ``<shape>-restart-*``: they do not replace a full run's files.
    """
    output.mkdir(parents=True, exist_ok=True)
    shape = result["shape"]
    prefix = shape if result["options"]["scenario"] == "full" else f"{shape}-restart"
    table = markdown(result)
    files = []
    for name in (f"{prefix}-{stamp}", f"{prefix}-latest"):
        (output / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (output / f"{name}.md").write_text(table)
        files += [output / f"{name}.json", output / f"{name}.md"]
    files += plot_latency(result, output / f"{shape}-latency.png")
    files += plot_memory(result, output / f"{shape}-memory.png")
    files += restart_report.plot(result, output)
    return files


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _load(machine: dict[str, Any], key: str) -> str:
    return f"{machine[key][0]:.2f}" if key in machine else "–"


def _ratio(value: float | None, floor: float | None) -> str:
    if value is None or not floor:
        return "–"
    return f"{value / floor:.0f}×"


def markdown(result: dict[str, Any]) -> str:
    lines = [f"### {result['shape']} — {result['started_at']}"]
    if "floor" in result:
        lines += _load_lines(result)
    lines += restart_report.markdown_lines(result)
    delivery = result.get("delivery", {})
    hooks = result.get("webhooks", {})
    machine = result["machine"]
    lines += [
        "",
        "| whole run | value |",
        "|---|---|",
        f"| delivery | {delivery.get('accepted')} accepted, {delivery.get('lost')} lost, "
        f"{delivery.get('duplicates')} duplicates, {delivery.get('unexpected')} unexpected |",
        f"| webhooks | {hooks.get('verified')} verified, {hooks.get('failed_verification')} "
        "failed verification |",
        f"| machine load average (1 min) before / after | "
        f"{_load(machine, 'load_average_before')} / {_load(machine, 'load_average_after')} "
        f"on {machine.get('cpus')} CPUs |",
        "",
        "Settings changed for the bench: "
        + ", ".join(f"`{k}={v}`" for k, v in result["server_settings"].items()),
        "",
    ]
    return "\n".join(lines)


def _load_lines(result: dict[str, Any]) -> list[str]:
    """The full scenario's tables: the load phases, then memory, connecting and floors."""
    floor = result["floor"]
    echo = floor["ws_echo"]["latency_ms"]
    commit = floor["db_commit"]["latency_ms"]
    lines = [
        "",
        "| phase | offered/s | POST→201/s | jobs/s | POST→201 p50 / p99 ms | "
        "POST→agent p50 / p90 / p99 / max ms | ×echo p50 | POST→webhook p50 / p99 ms | "
        "gen / server / machine CPU% | bound by | unfinished | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in result.get("load", []):
        lat = step["latency_ms"]
        post, agent, hook = lat["post_201"], lat["post_to_agent"], lat["post_to_completed_webhook"]
        echo_p50 = echo.get(f"{step['offered_per_s']:g}", {}).get("p50")
        lines.append(
            f"| {step['phase']} | {step['offered_per_s']:g} | {step['achieved_post_per_s']:g} | "
            f"{step['achieved_jobs_per_s']:g} | {_ms(post['p50'])} / {_ms(post['p99'])} | "
            f"{_ms(agent['p50'])} / {_ms(agent['p90'])} / {_ms(agent['p99'])} / "
            f"{_ms(agent['max'])} | {_ratio(agent['p50'], echo_p50)} | "
            f"{_ms(hook['p50'])} / {_ms(hook['p99'])} | {step['generator_cpu_percent']:g} / "
            f"{step['server_cpu_percent']:g} / {step['machine_cpu_percent']:g} | "
            f"{step['bottleneck']} | {step['not_finished']} | "
            f"{sum(step['failures'].values())} |"
        )
    memory = result.get("memory", {})
    echo_memory = floor["ws_echo"]["memory"]
    lines += [
        "",
        "| measure | value | floor |",
        "|---|---|---|",
        f"| server memory per idle agent | {memory.get('per_agent_bytes', 0) / 1024:.1f} KiB "
        f"({result['options']['agents']} agents) | echo: "
        f"{echo_memory['per_connection_bytes'] / 1024:.1f} KiB per connection |",
        f"| time to connect all agents | {memory.get('connect_seconds', '–')} s | |",
        f"| one DB commit (single-row insert) | | p50 {_ms(commit['p50'])} ms, p99 "
        f"{_ms(commit['p99'])} ms, {floor['db_commit']['commits_per_s']} commits/s |",
    ]
    if "preload" in result:
        preload = result["preload"]
        lines.append(
            f"| preload | {preload['jobs']} jobs ({preload['rows']} rows) in "
            f"{preload['seconds']} s: {preload['jobs_per_s']} jobs/s | |"
        )
    lines += [
        "",
        "Latencies are from each job's scheduled send time (open loop). The generator is "
        "one process (agents, submitters on a lean keep-alive HTTP client, the webhook "
        "receiver) on the same machine: "
        "'bound by' says which side was near a full core while the load was offered.",
    ]
    return lines


def plot_latency(result: dict[str, Any], path: Path) -> list[Path]:
    ladder = [s for s in result.get("load", []) if s["phase"] == "ladder"]
    if not ladder:
        return []
    rates = [s["offered_per_s"] for s in ladder]
    figure, axes = plt.subplots(figsize=(8, 5))
    for key, label in LATENCIES.items():
        for percentile, style in (("p50", "-o"), ("p99", "--o")):
            values = [s["latency_ms"][key][percentile] for s in ladder]
            axes.plot(rates, values, style, label=f"{label} {percentile}")
    echo = result["floor"]["ws_echo"]["latency_ms"]
    for percentile, style in (("p50", ":x"), ("p99", ":+")):
        values = [echo[f"{rate:g}"][percentile] for rate in rates]
        axes.plot(rates, values, style, label=f"echo {percentile}")
    axes.set(
        xlabel="offered jobs/s",
        ylabel="latency (ms)",
        yscale="log",
        title=f"PrintCloud {result['shape']}: latency against offered load",
    )
    axes.legend(fontsize="small")
    axes.grid(visible=True, which="both", alpha=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return [path]


def plot_memory(result: dict[str, Any], path: Path) -> list[Path]:
    samples = result.get("memory", {}).get("server_samples")
    if not samples:
        return []
    echo = result["floor"]["ws_echo"]["memory"]
    figure, axes = plt.subplots(figsize=(8, 5))
    mib = 1024 * 1024
    axes.plot(
        [s["connections"] for s in samples],
        [s["rss_bytes"] / mib for s in samples],
        "-o",
        label="printcloud serve (all processes)",
    )
    axes.plot(
        [0, echo["connections"]],
        [echo["rss_before_bytes"] / mib, echo["rss_after_bytes"] / mib],
        ":x",
        label="WebSocket echo floor",
    )
    axes.set(
        xlabel="agent connections",
        ylabel="server RSS (MiB)",
        title=f"PrintCloud {result['shape']}: memory against connections",
    )
    axes.legend()
    axes.grid(visible=True, alpha=0.3)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return [path]
