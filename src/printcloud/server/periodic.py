"""One way to run a function again and again in the background of a server.

The work itself is a plain async function that tests call directly
(``Dispatcher.sweep``, ``deliver_due``, ``prune``); this only decides when it runs:
every ``interval`` seconds, at once again when the work says there is more to do,
and early when something calls :meth:`Periodic.wake`. A failing pass is logged and
the next one comes as planned: a worker that dies quietly is the worse outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from printcloud.server.availability import DependencyUnavailable

log = structlog.get_logger(__name__)

# The work's answer: True when it stopped with more to do (a full batch), so that the
# next pass starts at once instead of after the interval.
Work = Callable[[], Awaitable[bool]]


class Periodic:
    def __init__(
        self, name: str, work: Work, *, interval: float, first_delay: float | None = None
    ) -> None:
        self.name = name
        self._work = work
        self._interval = interval
        self._first_delay = interval if first_delay is None else first_delay
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run the next pass now rather than at the end of the interval."""
        self._woken.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await self._wait(self._first_delay)
        while True:
            try:
                more = await self._work()
            except DependencyUnavailable as exc:
                log.debug("periodic_work_postponed", worker=self.name, error=str(exc))
                more = False
            except Exception:
                log.exception("periodic_work_failed", worker=self.name)
                more = False
            if not more:
                await self._wait(self._interval)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        self._woken.clear()
