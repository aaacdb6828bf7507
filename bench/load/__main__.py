"""``python -m bench.load [--smoke] [--shape embedded|cluster|both] ...``"""

from __future__ import annotations

import asyncio
import resource
import signal
import sys
import time
from collections.abc import Coroutine
from typing import Any

from bench.load import report
from bench.load.options import Options, parse
from bench.load.run import run_shape
from bench.load.shared import log

from printcloud.server.logs import configure_logging


def raise_open_files_limit() -> None:
    """Each agent is a socket here and one in the server (which inherits the limit)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main(options: Options) -> int:
    # SIGTERM (a CI timeout, `timeout`, kill) cancels the run like Ctrl-C does, so that
    # every server is stopped and every database dropped on the way out.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for shape in options.shapes:
        result = await run_shape(shape, options)
        files = report.write(result, options.output, stamp)
        print()
        print(report.markdown(result))
        log("wrote " + ", ".join(str(path) for path in files))
    return 0


def run(coroutine: Coroutine[Any, Any, int]) -> int:
    """uvloop when installed: the server runs on it too (uvicorn's default loop)."""
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    options = parse()
    raise_open_files_limit()
    # The server's code runs here too (creating the users): only its warnings are news.
    configure_logging("warning")
    sys.exit(run(main(options)))
