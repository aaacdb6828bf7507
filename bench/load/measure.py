"""What the harness measures with: latency histograms, process RSS and CPU time."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

NS_PER_MS = 1_000_000
# 1 microsecond to 10 minutes at 3 significant digits: latencies are recorded in us.
_LOWEST_US = 1
_HIGHEST_US = 600_000_000


@dataclass
class Latency:
    """An HdrHistogram of latencies, recorded in microseconds, reported in milliseconds."""

    histogram: HdrHistogram = field(
        default_factory=lambda: HdrHistogram(_LOWEST_US, _HIGHEST_US, 3)
    )

    def record_ns(self, nanoseconds: int) -> None:
        self.histogram.record_value(max(_LOWEST_US, min(_HIGHEST_US, nanoseconds // 1000)))

    @property
    def count(self) -> int:
        return int(self.histogram.get_total_count())

    def summary(self) -> dict[str, Any]:
        """p50, p90, p99 and max in milliseconds (None when nothing was recorded)."""
        if not self.count:
            return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
        percentile = self.histogram.get_value_at_percentile
        return {
            "count": self.count,
            "p50": percentile(50) / 1000,
            "p90": percentile(90) / 1000,
            "p99": percentile(99) / 1000,
            "max": self.histogram.get_max_value() / 1000,
        }


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces: the fields after it start past its ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy so far (everything but idle and iowait), /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / _CLOCK_TICKS


class CpuMeter:
    """CPU used over a phase, in percent of one core: this process, the servers, all."""

    def __init__(self, server_pids: list[int]) -> None:
        self.server_pids = server_pids
        self._wall = time.monotonic()
        self._own = time.process_time()
        self._servers = [cpu_seconds(pid) for pid in server_pids]
        self._machine = machine_busy_seconds()

    def read(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._wall, 1e-9)
        servers = [
            cpu_seconds(pid) - start
            for pid, start in zip(self.server_pids, self._servers, strict=True)
        ]
        return {
            "generator_cpu_percent": round(100 * (time.process_time() - self._own) / wall, 1),
            "server_cpu_percent": round(100 * sum(servers) / wall, 1),
            # Everything on the machine (the database, Redis, other people's work too),
            # in percent of one core: 200 is a full 2-core machine.
            "machine_cpu_percent": round(100 * (machine_busy_seconds() - self._machine) / wall, 1),
        }
