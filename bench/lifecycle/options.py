"""The driver's options, and the seconds-long smoke."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Options:
    seconds: float = 10
    warmup: float = 2
    agents: int = 8
    submitters: int = 32
    # Agents are spread over the accounts, each with its own webhook (one receiver).
    accounts: int = 4
    webhooks: bool = True
    # ``post``: a submitter sends its next job once the last one got its 201.
    # ``lifecycle``: once the last one's ``completed`` report was sent by its agent.
    # ``webhook``: once the receiver verified the last one's ``completed`` delivery.
    wait_for: str = "post"
    drain_timeout: float = 120
    json: bool = False
    output: Path = Path("bench/results")
    profile: Path | None = None
    smoke: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["output"] = str(self.output)
        data["profile"] = str(self.profile) if self.profile else None
        return data


SMOKE = {"seconds": 1.0, "warmup": 0.5, "agents": 2, "submitters": 4, "accounts": 2}


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description="Full job lifecycles, closed loop, on one embedded `printcloud serve`: "
        "POST /api/printjobs -> agent -> printing, completed -> (webhooks) 3 verified "
        "job.state deliveries.",
    )
    defaults = Options()
    parser.add_argument(
        "--seconds", type=float, help=f"measured window (default {defaults.seconds:g})"
    )
    parser.add_argument("--warmup", type=float, help=f"default {defaults.warmup:g}")
    parser.add_argument("--agents", type=int, help=f"default {defaults.agents}")
    parser.add_argument("--submitters", type=int, help=f"default {defaults.submitters}")
    parser.add_argument("--accounts", type=int, help=f"default {defaults.accounts}")
    parser.add_argument("--webhooks", action=argparse.BooleanOptionalAction, help="default: on")
    parser.add_argument(
        "--wait-for",
        choices=["post", "lifecycle", "webhook"],
        help="what a submitter waits for before its next job: the 201 (default), the "
        "job's completed report, or its completed webhook",
    )
    parser.add_argument("--drain-timeout", type=float)
    parser.add_argument("--json", action="store_true", help="write OUTPUT/lifecycle-<time>.json")
    parser.add_argument("--output", type=Path, help=f"default {defaults.output}")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy's collapsed stacks of the server over the window (figures then carry "
        "the sampling's cost); summarise with python -m bench.profile_summary PROFILE",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and seconds-long (tests)")
    args = parser.parse_args(argv)
    values: dict[str, Any] = dict(SMOKE) if args.smoke else {}
    for name in (
        "seconds", "warmup", "agents", "submitters", "accounts", "webhooks", "wait_for",
        "drain_timeout", "output", "profile",
    ):  # fmt: skip
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    options = Options(json=args.json, smoke=args.smoke, **values)
    if options.wait_for == "webhook" and not options.webhooks:
        parser.error("--wait-for webhook needs --webhooks")
    return options
