"""Where a py-spy profile's CPU went, by package and by function.

Reads py-spy's collapsed stacks (``py-spy record --format raw``: one line per
distinct stack, ``frame;frame;... count``, a frame being ``function (path:line)``
with the path relative to its ``sys.path`` entry) and prints markdown tables:

- self: the package of the innermost frame, i.e. the code that was running;
- inclusive: the share of samples with the package anywhere on the stack;
- the functions with the most self samples.

Code run inside a greenlet (SQLAlchemy's async bridge runs the ORM in one) is
sampled as a stack of its own, rooted at the greenlet's first frame: the inclusive
shares of its callers (the route, FastAPI) leave that part out. A sample with no
Python frame at all (C code between frames) counts as ``(no Python frame)``.

    .venv/bin/python -m bench.profile_summary profile.txt [--top 10]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


@dataclass
class Profile:
    samples: int = 0
    self_by_package: Counter[str] = field(default_factory=Counter)
    inclusive_by_package: Counter[str] = field(default_factory=Counter)
    self_by_function: Counter[str] = field(default_factory=Counter)


def package(path: str) -> str:
    """``sqlalchemy/orm/session.py`` -> ``sqlalchemy``; our own code by its package
    (``printcloud/server/jobs/service.py`` -> ``printcloud.server.jobs``), because the
    question there is which part of ours."""
    parts = path.split("/")
    if parts[0] == "printcloud":
        return ".".join(part.removesuffix(".py") for part in parts[:3])
    if parts[0].startswith("<frozen"):
        return parts[0]
    return parts[0].removesuffix(".py")


def parse_frame(frame: str) -> tuple[str, str]:
    """(function with its file, package) of one collapsed frame."""
    match = _FRAME.match(frame)
    if match is None:
        return frame, "?"
    path = match["path"]
    return f"{match['function']} ({path})", package(path)


def read(lines: list[str]) -> Profile:
    profile = Profile()
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [parse_frame(frame) for frame in stack.split(";")] if stack.strip() else []
        if not frames:
            frames = [("(no Python frame)", "(no Python frame)")]
        profile.samples += count
        function, leaf_package = frames[-1]
        profile.self_by_package[leaf_package] += count
        profile.self_by_function[function] += count
        for name in {name for _function, name in frames}:
            profile.inclusive_by_package[name] += count
    return profile


def _table(title: str, counts: Counter[str], total: int, top: int) -> list[str]:
    lines = [f"| {title} | share | samples |", "|---|---|---|"]
    for name, count in counts.most_common(top):
        lines.append(f"| `{name}` | {100 * count / total:.1f} % | {count} |")
    return lines


def render(profile: Profile, top: int) -> str:
    total = max(profile.samples, 1)
    out = [f"{profile.samples} samples", ""]
    out += [*_table("package (self)", profile.self_by_package, total, top), ""]
    out += [*_table("package (inclusive)", profile.inclusive_by_package, total, top), ""]
    out += _table("function (self)", profile.self_by_function, total, top)
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=10)
    options = parser.parse_args()
    print(render(read(options.profile.read_text().splitlines()), options.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
