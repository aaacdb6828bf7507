"""PrintNode's "set" path segment: ``12``, ``12,15,20``, ``100-200``, or a mix.

PrintNode names objects by positive integers and lets one call name many: a set is an
unordered, comma-separated collection of ids and inclusive ranges. A set is kept as
its ranges, never expanded (``1-9999999`` is one range, not ten million ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from printcloud.server.errors import BadRequest

MAX_PARTS = 100
_PART = re.compile(r"^(\d{1,18})(?:-(\d{1,18}))?$")


@dataclass(frozen=True)
class IdSet:
    """Inclusive ``(first, last)`` ranges of ids."""

    ranges: tuple[tuple[int, int], ...]

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and any(lo <= value <= hi for lo, hi in self.ranges)


def parse_set(raw: str, what: str = "id") -> IdSet:
    """The set written in a path; BadRequest naming the part that is not one."""
    parts = raw.split(",")
    if len(parts) > MAX_PARTS:
        raise BadRequest(f"A {what} set has at most {MAX_PARTS} parts; this one has {len(parts)}")
    ranges = []
    for part in parts:
        match = _PART.match(part.strip())
        first = int(match.group(1)) if match else 0
        last = int(match.group(2) or first) if match else 0
        if not match or first < 1 or last < first:
            raise BadRequest(
                f"{raw!r} is not a {what} set: use positive integer ids and ranges, "
                "comma-separated, e.g. 12 or 12,15 or 100-200"
            )
        ranges.append((first, last))
    return IdSet(tuple(ranges))
