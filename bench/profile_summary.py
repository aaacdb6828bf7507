"""Where a py-spy profile's CPU went, by package and by function.

Reads py-spy's collapsed stacks (``py-spy record --format raw``: one line per
distinct stack, ``frame;frame;... count``, a frame being ``function (path:line)``
with the path relative to its ``sys.path`` entry) and prints markdown tables:

- layer: the stack the issue's levers are about (HTTP server, framework, ORM,
  database driver, ours), by the innermost frame outside the standard library, so
  that a ``weakref`` or ``json`` call is charged to the library that made it;
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


# Standard-library frames are charged to their caller, except these, which are a
# layer of their own (asyncio's loop) or the database's own work (sqlite3).
_OWN_LAYER = frozenset({"asyncio", "sqlite3"})
# ``<string>``: code made at run time (dataclasses' __init__), charged to its caller too.
_STDLIB = frozenset({*sys.stdlib_module_names, "<frozen>", "<string>"}) - _OWN_LAYER

# Package prefixes to layer names, first match wins.
LAYERS: Sequence[tuple[str, str]] = (
    ("uvicorn", "uvicorn / httptools / h11"),
    ("httptools", "uvicorn / httptools / h11"),
    ("h11", "uvicorn / httptools / h11"),
    ("websockets", "uvicorn / httptools / h11"),
    ("fastapi", "fastapi / starlette"),
    ("starlette", "fastapi / starlette"),
    ("anyio", "fastapi / starlette"),
    ("pydantic", "pydantic"),
    ("sqlalchemy", "sqlalchemy"),
    ("<sqlalchemy", "sqlalchemy"),
    ("aiosqlite", "aiosqlite"),
    # Our SQLite driver: sqlite3's C calls (the database's own work) run in its frames.
    ("printcloud.server.db", "sqlite3 via printcloud.server.db"),
    ("sqlite3", "sqlite3 via printcloud.server.db"),
    ("structlog", "structlog"),
    ("printcloud", "printcloud (the rest of ours)"),
    ("asyncio", "asyncio"),
)


# A thread parked in these is waiting, not working: py-spy's idle detection misses a
# timed wait (anyio's worker threads sit in one between jobs).
_WAITING = ("Condition.wait (threading.py)", "Event.wait (threading.py)")
IDLE = "(a thread waiting)"


def layer(packages: Sequence[str], leaf: str = "") -> str:
    """The layer of one sample, from its frames' packages (root first) and its
    innermost function."""
    if leaf in _WAITING:
        return IDLE
    outside = [name for name in packages if _top(name) not in _STDLIB]
    name = outside[-1] if outside else packages[-1]
    return next((title for prefix, title in LAYERS if name.startswith(prefix)), name)


def _top(name: str) -> str:
    return "<frozen>" if name.startswith("<frozen") else name.split(".", maxsplit=1)[0]


@dataclass
class Profile:
    samples: int = 0
    by_layer: Counter[str] = field(default_factory=Counter)
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
        profile.by_layer[layer([name for _function, name in frames], function)] += count
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
    out += [*_table("layer", profile.by_layer, total, top), ""]
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
