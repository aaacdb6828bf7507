"""Closed-loop submitters: each keeps one ``POST /api/printjobs`` in flight.

Unlike ``bench.load.submit`` (open loop, fixed arrivals), a submitter sends its next
job as soon as the last one was answered (``post``), as soon as the last one's agent
sent ``completed`` (``lifecycle``), or once the receiver verified its ``completed``
webhook (``webhook``): the server's saturation rate, not its latency at a given rate.
Jobs go round the agents' printers in turn.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.load.lean_http import LeanHttp
from bench.load.submit import DOCUMENT, Target

# After a refused or failed POST: a dead server must not turn the loop into a busy spin.
FAILURE_PAUSE = 0.01


@dataclass
class Submitted:
    """Every accepted job: when its POST was sent and when its 201 came (monotonic_ns)."""

    sent: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)


class ClosedLoop:
    def __init__(
        self,
        poster: LeanHttp,
        url: str,
        targets: list[Target],
        *,
        wait: bool,
    ) -> None:
        """With ``wait``, a submitter waits for ``finish(job)`` after each 201."""
        self.poster = poster
        self.url = f"{url}/api/printjobs"
        self.targets = targets
        self.jobs = Submitted()
        self._bodies = [
            (
                target.authorization,
                (
                    f'{{"printerId":"{target.printer_id}","contentType":"raw_base64",'
                    f'"content":"{DOCUMENT}","title":"Bench job"}}'
                ).encode(),
            )
            for target in targets
        ]
        self._next = 0
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._wait = wait
        self.finished: set[str] = set()

    def start(self, submitters: int) -> None:
        self._tasks = [asyncio.create_task(self._submit()) for _ in range(submitters)]

    async def stop(self, timeout: float) -> None:
        """No new jobs; wait for the ones in flight (their lifecycle too, if waited for)."""
        self._stopping = True
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def finish(self, job_id: str) -> None:
        """The job's life is over: its submitter may send the next one."""
        self.finished.add(job_id)
        waiter = self._waiters.pop(job_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _submit(self) -> None:
        jobs = self.jobs
        while not self._stopping:
            authorization, body = self._bodies[self._next % len(self._bodies)]
            self._next += 1
            sent = time.monotonic_ns()
            try:
                status, answer = await self.poster.post_json(self.url, body, authorization)
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ) as error:
                jobs.failures[type(error).__name__] += 1
                await asyncio.sleep(FAILURE_PAUSE)
                continue
            answered = time.monotonic_ns()
            if status != 201:
                jobs.failures[str(status)] += 1
                await asyncio.sleep(FAILURE_PAUSE)
                continue
            job_id = json.loads(answer)
            jobs.sent[job_id] = sent
            jobs.answered[job_id] = answered
            # The job may have been finished before its 201 reached us.
            if self._wait and job_id not in self.finished:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters[job_id] = waiter
                await waiter
