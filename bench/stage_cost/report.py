"""Each stage's cost against its floor: what the stack under it costs for the least a
stage must do per operation."""

from __future__ import annotations

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


def stage_floor(stage: str, floors: dict[str, Floor]) -> tuple[float, str]:
    """The stage's floor in CPU-µs per operation, and what it is made of."""
    parts = STAGE_FLOORS[stage]
    total = sum(count * floors[key].us_per_op for key, count in parts)
    what = " + ".join(
        f"{count} {_SHORT[key]}" if count > 1 else _SHORT[key] for key, count in parts
    )
    return total, what


def markdown(stages: list[StageResult], floors: dict[str, Floor]) -> str:
    lines = [
        "| stage | operations | server CPU-µs per op | floor | multiple of floor |",
        "|---|---|---|---|---|",
    ]
    for result in stages:
        floor, what = stage_floor(result.stage, floors)
        operations = f"{result.operations:,} {_UNITS[result.stage]}"
        if result.stage == "state reports":
            operations += f" ({2 * result.operations:,} reports)"
        lines.append(
            f"| {result.stage} | {operations} | {result.us_per_op:,.0f} "
            f"| {floor:,.0f} ({what}) | {result.us_per_op / floor:.1f}× |"
        )
    lines += ["", "| floor | operations | CPU-µs per op | whose CPU |", "|---|---|---|---|"]
    for floor_ in floors.values():
        side = "its server" if floor_.side == "server" else "the bench (client)"
        lines.append(
            f"| {floor_.name} | {floor_.operations:,} | {floor_.us_per_op:,.1f} | {side} |"
        )
    return "\n".join(lines)


def document(
    stages: list[StageResult], floors: dict[str, Floor], context: dict[str, Any]
) -> dict[str, Any]:
    rows = []
    for result in stages:
        floor, what = stage_floor(result.stage, floors)
        rows.append(
            {
                **result.as_dict(),
                "floor_us_per_op": round(floor, 1),
                "floor_is": what,
                "multiple_of_floor": round(result.us_per_op / floor, 2),
            }
        )
    return {
        **context,
        "stages": rows,
        "floors": {key: floor.as_dict() for key, floor in floors.items()},
    }
