"""The restarts' part of the results: markdown tables and the plots over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt


def _seconds(value: float | None) -> str:
    return "not all" if value is None else f"{value:g} s"


def _ms(summary: dict[str, Any], key: str) -> str:
    return "–" if summary[key] is None else f"{summary[key]:.1f} ms"


def _handshakes(handshakes: dict[str, Any]) -> str:
    kinds = ", ".join(f"{kind}: {n}" for kind, n in handshakes["failed_by_kind"].items())
    return (
        f"{handshakes['refused']} refused (1013) / {handshakes['failed']} failed"
        + (f" ({kinds})" if kinds else "")
        + f"; {handshakes['disconnects']} disconnects"
    )


def markdown_lines(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if restart := result.get("restart"):
        lines += [
            "",
            "| restart (all servers, jobs queued while agents are held off) | value |",
            "|---|---|",
            f"| shutdown, SIGTERM → exit, per server | "
            f"{', '.join(f'{s:g} s' for s in restart['shutdown_seconds'])} |",
            f"| all {restart['agents']} agents back after release | "
            f"{_seconds(restart['agents_back_seconds'])} ({restart['agents_back']} back) |",
            f"| handshakes | {_handshakes(restart['handshakes'])} |",
            f"| {restart['queued_jobs']} queued jobs delivered / completed | "
            f"{_seconds(restart['jobs_delivered_seconds'])} / "
            f"{_seconds(restart['jobs_completed_seconds'])} |",
            f"| lost / duplicates / unfinished | {restart['lost']} / {restart['duplicates']} / "
            f"{restart['not_finished']} {restart['not_finished_states'] or ''} |",
        ]
    if rolling := result.get("rolling_restart"):
        offline = rolling["offline_seconds"]
        lines += [
            "",
            "| rolling restart (one server at a time, jobs flowing) | value |",
            "|---|---|",
            f"| POSTs at {rolling['rate']:g}/s: sent / failed | {rolling['posts']} / "
            f"{rolling['failed_posts']} {rolling['post_failures'] or ''} |",
            f"| POST→201 p50 / p99 / max (from each job's scheduled time) | "
            f"{_ms(rolling['post_201_ms'], 'p50')} / {_ms(rolling['post_201_ms'], 'p99')} / "
            f"{_ms(rolling['post_201_ms'], 'max')} |",
            f"| shutdown, SIGTERM → exit, per server | "
            f"{', '.join(f'{s:g} s' for s in rolling['shutdown_seconds'])} |",
            f"| agents offline / not back | {rolling['agents_offline']} / "
            f"{rolling['agents_not_back']} |",
            f"| longest offline gap per agent (close → printers_ok): max / p99 | "
            f"{_seconds(offline['max'])} / {_seconds(offline['p99'])} |",
            f"| handshakes | {_handshakes(rolling['handshakes'])} |",
            f"| lost / duplicates / unfinished | {rolling['lost']} / {rolling['duplicates']} / "
            f"{rolling['not_finished']} {rolling['not_finished_states'] or ''} |",
        ]
    return lines


def plot(result: dict[str, Any], output: Path) -> list[Path]:
    """``<shape>-restart.png`` and, in the cluster, ``<shape>-rolling-restart.png``."""
    shape, files = result["shape"], []
    if restart := result.get("restart"):
        series = restart["series"]
        path = output / f"{shape}-restart.png"
        _plot(
            path,
            f"PrintCloud {shape}: restart with {restart['queued_jobs']} jobs queued",
            "seconds after the agents were released",
            [("agents back", series["agents_back"]), ("jobs delivered", series["jobs_delivered"])],
            [],
        )
        files.append(path)
    if rolling := result.get("rolling_restart"):
        series = rolling["series"]
        path = output / f"{shape}-rolling-restart.png"
        _plot(
            path,
            f"PrintCloud {shape}: rolling restart at {rolling['rate']:g} jobs/s",
            "seconds after the jobs started flowing",
            [
                ("agents connected", series["agents_connected"]),
                ("jobs accepted", series["jobs_accepted"]),
                ("jobs delivered", series["jobs_delivered"]),
            ],
            rolling["events"],
        )
        files.append(path)
    return files


def _plot(
    path: Path,
    title: str,
    xlabel: str,
    curves: list[tuple[str, list[list[float]]]],
    events: list[dict[str, Any]],
) -> None:
    """One panel per curve (their scales differ), sharing the time axis, events marked."""
    figure, panels = plt.subplots(len(curves), 1, figsize=(8, 2.5 * len(curves)), sharex=True)
    for axes, (label, rows) in zip(panels, curves, strict=True):
        axes.step([r[0] for r in rows], [r[1] for r in rows], where="post")
        axes.set_ylabel(label)
        axes.grid(visible=True, alpha=0.3)
        for event in events:
            axes.axvline(event["seconds"], linestyle=":", color="grey")
            axes.annotate(
                f"{event['event']} {event['server']}",
                (event["seconds"], 0),
                xycoords=("data", "axes fraction"),
                fontsize="x-small",
                rotation=90,
            )
    panels[0].set_title(title)
    panels[-1].set_xlabel(xlabel)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
