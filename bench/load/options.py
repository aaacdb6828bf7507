"""The harness's options: defaults for a full run, and the seconds-long smoke."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Each account stays under 80% of the default 10/s rate limit: bursts are allowed, but
# the bench must never be the one that gets 429s.
PER_ACCOUNT_RATE = 8.0
QUEUE_SECONDS = 10.0
# During the rolling restart a server that takes over every agent stalls for seconds,
# then answers the POSTs it held all at once: each account's share stays low enough
# that even then it is within the limit's burst (a stall shows as POST→201 latency).
ROLLING_PER_ACCOUNT_RATE = 2.0


SCENARIOS = ("full", "restart")


@dataclass
class Options:
    shapes: list[str] = field(default_factory=lambda: ["embedded", "cluster"])
    # full: the floor, the load ladder, then the restart; restart: the restart and (in the
    # cluster) the rolling restart alone.
    scenario: str = "full"
    # All agents connected; jobs go to the ``active`` ones, the rest stay idle.
    agents: int = 10_000
    active_agents: int = 100
    rates: list[float] = field(default_factory=lambda: [50, 100, 200, 500, 1000, 2000])
    # The rate measured again with idle agents and with the preloaded history (flat cost?).
    reference_rate: float = 200
    seconds: float = 10
    preload: int = 1_000_000
    # Jobs submitted while the agents are away; by default one per agent.
    queued: int | None = None
    drain_timeout: float = 60
    # The rolling restart (cluster): jobs offered a second throughout, and the steady
    # seconds before, between and after the servers' restarts.
    rolling_rate: float = 50
    settle_seconds: float = 5
    db_commits: int = 1000
    echo_connections: int | None = None
    output: Path = Path("bench/results")
    accounts: int | None = None
    smoke: bool = False

    @property
    def account_count(self) -> int:
        """Enough accounts that the highest rate stays under each one's limit."""
        needed = (
            math.ceil(max([*self.rates, self.reference_rate]) / PER_ACCOUNT_RATE)
            if self.scenario == "full"
            else math.ceil(self.rolling_rate / ROLLING_PER_ACCOUNT_RATE)
        )
        # And enough that the jobs queued during the restart go in within QUEUE_SECONDS.
        queueing = math.ceil(self.queued_count / PER_ACCOUNT_RATE / QUEUE_SECONDS)
        return max(1, self.accounts or max(needed, queueing))

    @property
    def active_count(self) -> int:
        # Every account needs an active agent, so its share of jobs has a printer.
        return min(self.agents, max(self.active_agents, self.account_count))

    @property
    def queued_count(self) -> int:
        return self.agents if self.queued is None else self.queued

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["output"] = str(self.output)
        data |= {"accounts": self.account_count, "active_agents": self.active_count}
        data["queued"] = self.queued_count
        return data


SMOKE = {
    "agents": 20,
    "active_agents": 4,
    "rates": [10, 20],
    "reference_rate": 10,
    "seconds": 1.5,
    "preload": 2000,
    "drain_timeout": 60,  # generous: CI machines are busy; only a stuck job waits this long
    "db_commits": 20,
    "rolling_rate": 20,
    "settle_seconds": 1,
}


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Drive real `printcloud serve` processes with simulated agents, "
        "open-loop submitters and a verifying webhook receiver; write JSON, a markdown "
        "table and plots.",
    )
    defaults = Options()
    parser.add_argument("--shape", choices=["embedded", "cluster", "both"], default="both")
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="full",
        help="full: floor, load ladder, restart (long); restart: connect the agents, then "
        "the restart with jobs queued (and the rolling restart in the cluster) alone",
    )
    parser.add_argument("--agents", type=int, help=f"default {defaults.agents}")
    parser.add_argument("--active-agents", type=int, help=f"default {defaults.active_agents}")
    parser.add_argument("--rates", help="offered jobs/s, comma-separated (default 50,...,2000)")
    parser.add_argument("--reference-rate", type=float)
    parser.add_argument("--seconds", type=float, help="per offered rate")
    parser.add_argument("--preload", type=int, help="finished jobs written before measuring")
    parser.add_argument("--queued", type=int, help="jobs queued while agents are away")
    parser.add_argument("--accounts", type=int, help="default: enough for the highest rate")
    parser.add_argument("--drain-timeout", type=float)
    parser.add_argument("--rolling-rate", type=float, help="jobs/s during the rolling restart")
    parser.add_argument("--settle-seconds", type=float, help="steady seconds around each step")
    parser.add_argument("--db-commits", type=int)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--smoke", action="store_true", help="tiny and seconds-long (CI)")
    args = parser.parse_args(argv)
    values: dict[str, Any] = dict(SMOKE) if args.smoke else {}
    for name in (
        "agents", "active_agents", "reference_rate", "seconds", "preload", "queued",
        "accounts", "drain_timeout", "db_commits", "output", "rolling_rate", "settle_seconds",
    ):  # fmt: skip
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.rates:
        values["rates"] = [float(rate) for rate in args.rates.split(",")]
    values["shapes"] = ["embedded", "cluster"] if args.shape == "both" else [args.shape]
    return Options(smoke=args.smoke, scenario=args.scenario, **values)
