"""py-spy's collapsed stacks of the server while a stage runs (``--profile DIR``).

py-spy attaches by pid and samples until it is interrupted, then writes its file:
the stage decides when it ends, not a duration given up front. Summarise a file with
``python -m bench.profile_summary DIR/<stage>.txt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

RATE = 100
_SAMPLING = b"Sampling process"
_WROTE = b"Wrote raw flamegraph data"


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("error: py-spy is not installed (.venv/bin/pip install py-spy)")
    return found


@contextlib.asynccontextmanager
async def sampled(pid: int, out: Path | None) -> AsyncIterator[None]:
    """Sample ``pid`` into ``out`` (py-spy's raw format) while the block runs."""
    if out is None:
        yield
        return
    process = await asyncio.create_subprocess_exec(
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    # Its first line says it has attached: samples start there.
    first = await process.stdout.readline()
    if _SAMPLING not in first:
        await process.wait()
        raise RuntimeError(f"py-spy did not start: {first.decode()}")
    try:
        yield
    finally:
        # Ctrl-C: py-spy stops sampling and writes what it has.
        process.send_signal(signal.SIGINT)
        said, _ = await process.communicate()
        if _WROTE not in said:
            raise RuntimeError(f"py-spy wrote no {out}: {said.decode()}")
