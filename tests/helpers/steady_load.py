"""A steady stream of ``POST /api/printjobs`` from a few clients at once, every answer
kept: what a test breaks a dependency under, and then checks against."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from tests.helpers.accounts import TestAccount
from tests.helpers.jobs import job


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    retry_after: str | None

    @property
    def job_id(self) -> str | None:
        return str(self.body) if self.status == 201 else None


class SteadyLoad:
    def __init__(
        self, http: httpx.AsyncClient, account: TestAccount, printer_id: str, clients: int = 4
    ) -> None:
        self._http = http
        self._account = account
        self._printer_id = printer_id
        self._clients = clients
        self.answers: list[Answer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._answered = asyncio.Condition()

    async def __aenter__(self) -> SteadyLoad:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self._clients)]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _client(self, n: int) -> None:
        count = 0
        while True:
            count += 1
            body = job(self._printer_id, title=f"load {n}-{count}")
            response = await self._http.post("/api/printjobs", auth=self._account.auth(), json=body)
            answer = Answer(
                response.status_code, response.json(), response.headers.get("retry-after")
            )
            async with self._answered:
                self.answers.append(answer)
                self._answered.notify_all()

    async def more(self, count: int, status: int | None = None, timeout: float = 30) -> None:
        """Wait for ``count`` more answers (of ``status``, when given) from now on."""
        start = len(self.answers)

        def enough() -> bool:
            new = self.answers[start:]
            return sum(1 for a in new if status is None or a.status == status) >= count

        async with asyncio.timeout(timeout), self._answered:
            await self._answered.wait_for(enough)

    @property
    def accepted(self) -> set[str]:
        """The ids of the jobs answered 201: acknowledged, so never to be lost."""
        return {a.job_id for a in self.answers if a.job_id is not None}
