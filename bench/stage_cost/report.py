"""Each stage's cost against its floor: what the stack under it costs for the least a
stage must do per operation.

Every stage and every floor is measured once a round; a figure is the median of its
rounds (a burst of someone else's work on the shared cores moves one round, not the
median), shown with the range.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.stage_cost.floors import Floor
from bench.stage_cost.stages import StageResult

# The least each stage does per operation, in floors: a job taken is one HTTP request
# and one commit; a job sent, one WebSocket message out (an echo is a message in and
# one out) and its state committed; a job's two reports, two messages in, two commits;
# a delivery, one HTTP request sent (client side) and its outcome committed.
STAGE_FLOORS: dict[str, tuple[tuple[str, int], ...]] = {
    "intake": (("http_bare", 1), ("commit", 1)),
    "dispatch": (("ws_echo", 1), ("commit", 1)),
    "state reports": (("ws_echo", 2), ("commit", 2)),
    "webhook delivery": (("http_client", 1), ("commit", 1)),
}
_SHORT = {
    "http_bare": "HTTP request",
    "http_client": "HTTP request (client)",
    "ws_echo": "WebSocket echo",
    "commit": "commit",
}
_UNITS = {
    "intake": "jobs",
    "dispatch": "jobs",
    "state reports": "jobs",
    "webhook delivery": "deliveries",
}


@dataclass(frozen=True)
class Rounds:
    """One stage's or one floor's figure in every round: CPU-µs per operation."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, digits: int = 0) -> str:
        median = f"{self.median:,.{digits}f}"
        if len(self.values) < 2:
            return median
        return f"{median} ({min(self.values):,.{digits}f}–{max(self.values):,.{digits}f})"


def stage_floor(stage: str, floors: dict[str, list[Floor]]) -> tuple[float, str]:
    """The stage's floor in CPU-µs per operation (medians), and what it is made of."""
    parts = STAGE_FLOORS[stage]
    total = sum(count * _rounds(floors[key]).median for key, count in parts)
    what = " + ".join(
        f"{count} {_SHORT[key]}" if count > 1 else _SHORT[key] for key, count in parts
    )
    return total, what


def markdown(stages: dict[str, list[StageResult]], floors: dict[str, list[Floor]]) -> str:
    lines = [
        "| stage | operations | server CPU-µs per op | floor | multiple of floor |",
        "|---|---|---|---|---|",
    ]
    for stage, results in stages.items():
        cost = _rounds(results)
        floor, what = stage_floor(stage, floors)
        operations = f"{results[0].operations:,} {_UNITS[stage]}"
        if stage == "state reports":
            operations += f" ({2 * results[0].operations:,} reports)"
        lines.append(
            f"| {stage} | {operations} | {cost.text()} "
            f"| {floor:,.0f} ({what}) | {cost.median / floor:.1f}× |"
        )
    lines += ["", "| floor | operations | CPU-µs per op | whose CPU |", "|---|---|---|---|"]
    for measured in floors.values():
        side = "its server" if measured[0].side == "server" else "the bench (client)"
        lines.append(
            f"| {measured[0].name} | {measured[0].operations:,} "
            f"| {_rounds(measured).text(1)} | {side} |"
        )
    rounds = len(next(iter(stages.values())))
    if rounds > 1:
        lines.append(f"\nMedians of {rounds} rounds, the range in brackets; operations a round.")
    return "\n".join(lines)


def document(
    stages: dict[str, list[StageResult]],
    floors: dict[str, list[Floor]],
    context: dict[str, Any],
) -> dict[str, Any]:
    rows = []
    for stage, results in stages.items():
        cost = _rounds(results)
        floor, what = stage_floor(stage, floors)
        rows.append(
            {
                "stage": stage,
                "operations": results[0].operations,
                "server_cpu_us_per_op": round(cost.median, 1),
                "floor_us_per_op": round(floor, 1),
                "floor_is": what,
                "multiple_of_floor": round(cost.median / floor, 2),
                "ok": all(result.ok for result in results),
                "rounds": [result.as_dict() for result in results],
            }
        )
    return {
        **context,
        "stages": rows,
        "floors": {
            key: {
                "floor": measured[0].name,
                "operations": measured[0].operations,
                "cpu_us_per_op": round(_rounds(measured).median, 1),
                "side": measured[0].side,
                "rounds": [floor.as_dict() for floor in measured],
            }
            for key, measured in floors.items()
        },
    }


def _rounds(measured: list[StageResult] | list[Floor]) -> Rounds:
    return Rounds(tuple(item.us_per_op for item in measured))
