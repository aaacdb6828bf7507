"""POST /api/printjobs as fast as one server process takes them, driven by wrk.

The load harness's submitters are Python (httpx) on the same 2 cores as the server,
so they cannot offer thousands of requests a second; wrk (C, Debian's ``wrk``)
can. The printer's computer is offline: every job is committed ``pending`` and
nothing else runs, which isolates submission from delivery.

    apt-get install wrk
    .venv/bin/python -m bench.submit_wrk [--connections 16] [--seconds 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.intake import printcloud_intake

from bench import wrk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    options = parser.parse_args()
    if not wrk.available():
        print(f"error: {wrk.MISSING}", file=sys.stderr)
        return 1
    load = wrk.Load(threads=1, connections=options.connections, seconds=options.seconds)
    with printcloud_intake(options.database_url) as intake, tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "post.lua"
        script.write_text(wrk.post_script(intake.body, intake.headers))
        command = " ".join(wrk.command(intake.url, script, load))
        print(f"$ {command}  (one printcloud serve on {intake.database})")
        _result, report = wrk.run(intake.url, script, load)
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
