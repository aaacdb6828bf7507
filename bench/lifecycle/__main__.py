"""``python -m bench.lifecycle [--seconds 10] [--agents 8] [--submitters 32]
[--webhooks/--no-webhooks] [--wait-for post|lifecycle] [--json] [--smoke]``

The issue's "full lifecycles/s": one embedded ``printcloud serve`` (SQLite in a
temporary folder), agents speaking the protocol that complete every job at once, a
verifying webhook receiver in a process of its own, and closed-loop submitters. After a
warm-up it counts over the window the jobs accepted, the ``completed`` reports the
agents sent and the webhook deliveries verified, then drains and checks that every
accepted job was completed, none delivered twice, and (with webhooks) each of its three
``job.state`` deliveries verified once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from bench.lifecycle import report
from bench.lifecycle.options import Options, parse
from bench.lifecycle.run import log, run
from bench.load.__main__ import run as run_loop

from printcloud.server.logs import configure_logging


async def main(options: Options) -> int:
    # SIGTERM cancels the run like Ctrl-C, so the server and the receiver are stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = await run(options)
    print()
    print(report.markdown(result))
    if options.json:
        log(f"wrote {report.write_json(result, options.output, stamp)}")
    return 0


if __name__ == "__main__":
    options = parse()
    # The server's code runs here too (creating the users): only its warnings are news.
    configure_logging("warning")
    sys.exit(run_loop(main(options)))
