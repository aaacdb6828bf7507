"""The job's stages, one at a time, each with the server's CPU read around it.

Only the public surface is used: REST, the agent protocol, the webhook contract.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from bench.intake import Intake
from bench.load.lean_http import LeanHttp
from bench.stage_cost.cpu import Spent, measured
from bench.stage_cost.parties import GatedReceiver, StagedAgent
from bench.stage_cost.sampling import sampled
from tests.helpers.live_server import serve_asgi

# A stage that has not finished in this long is stuck, not slow.
TIMEOUT = 300.0
# job.state events of a job's life that a webhook for job.state receives: sent,
# printing, completed.
STATE_EVENTS = ("sent", "printing", "completed")


@dataclass
class StageResult:
    """One stage: what was done, what it cost the server, and the counts that show
    every operation really happened."""

    stage: str
    operations: int
    cpu_ns: int
    wall_s: float
    checks: dict[str, Any] = field(default_factory=dict)
    ok: bool = True

    @property
    def us_per_op(self) -> float:
        return self.cpu_ns / 1000 / max(self.operations, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "operations": self.operations,
            "server_cpu_us": round(self.cpu_ns / 1000),
            "server_cpu_us_per_op": round(self.us_per_op, 1),
            "wall_s": round(self.wall_s, 3),
            "checks": self.checks,
            "ok": self.ok,
        }


class JobPath:
    """The server of ``intake`` and the agent of its registered computer."""

    def __init__(self, intake: Intake, clients: int, profile: Path | None = None) -> None:
        self.intake = intake
        self.clients = clients
        # A folder for py-spy's stacks of each measured stage (their figures then carry
        # the sampling's cost), or None.
        self.profile = profile
        self.agent = StagedAgent(
            intake.ws_url, intake.api_key, intake.computer_name, intake.printer_name
        )
        self.http = httpx.AsyncClient(base_url=intake.base_url, auth=(intake.api_key, ""))

    async def aclose(self) -> None:
        await self.agent.stop()
        await self.http.aclose()

    async def submit(self, count: int) -> tuple[list[str], Counter[int]]:
        """``count`` jobs from ``clients`` keep-alive connections; their ids and the
        statuses answered."""
        lean = LeanHttp(self.clients)
        body = self.intake.body.encode()
        authorization = self.intake.headers["Authorization"]
        ids: list[str] = []
        statuses: Counter[int] = Counter()

        async def submitter(share: int) -> None:
            for _ in range(share):
                status, answer = await lean.post_json(self.intake.url, body, authorization)
                statuses[status] += 1
                if status == 201:
                    ids.append(json.loads(answer))  # the bare id, as a JSON string

        shares = [count // self.clients + (i < count % self.clients) for i in range(self.clients)]
        try:
            await asyncio.gather(*(submitter(share) for share in shares if share))
        finally:
            await lean.aclose()
        return ids, statuses

    async def intake_stage(self, count: int) -> tuple[StageResult, list[str]]:
        async with self._measured("intake") as spent:
            ids, statuses = await self.submit(count)
        result = StageResult(
            "intake",
            count,
            spent.cpu_ns,
            spent.wall_s,
            {"created_201": statuses[201], "other_statuses": _other(statuses, 201)},
            ok=statuses[201] == count,
        )
        return result, ids

    async def dispatch_stage(self, ids: list[str]) -> StageResult:
        """The computer comes online; the jobs queued for it are sent."""
        before = len(self.agent.jobs)
        async with self._measured("dispatch") as spent:
            await self.agent.start(range(1), timeout=TIMEOUT)
            await self.agent.received(before + len(ids), TIMEOUT)
        received = Counter(job for job in ids for _ in self.agent.log.received[job])
        once = sum(1 for job in ids if received[job] == 1)
        return StageResult(
            "dispatch",
            len(ids),
            spent.cpu_ns,
            spent.wall_s,
            {"received_once": once, "agent_connections": 1},
            ok=once == len(ids),
        )

    async def reports_stage(self, ids: list[str]) -> StageResult:
        """``printing`` and ``completed`` for every job."""
        async with self._measured("reports") as spent:
            await self.agent.report(ids, TIMEOUT)
        states = await self.states(ids)
        return StageResult(
            "state reports",
            len(ids),
            spent.cpu_ns,
            spent.wall_s,
            {
                "reports": 2 * len(ids),
                "completed": states["completed"],
                "errors": self.agent.errors,
            },
            ok=states["completed"] == len(ids) and not self.agent.errors,
        )

    async def lifecycle(self, count: int) -> list[str]:
        """``count`` jobs through their whole life with the agent online (unmeasured)."""
        before = len(self.agent.jobs)
        ids, statuses = await self.submit(count)
        if statuses[201] != count:
            raise RuntimeError(f"jobs refused: {dict(statuses)}")
        await self.agent.received(before + count, TIMEOUT)
        await self.agent.report(ids, TIMEOUT)
        return ids

    async def webhook_stage(self, count: int) -> StageResult:
        """One webhook for ``job.state`` to a receiver in this process (not the
        server's): ``count`` jobs live their lives while every delivery waits at the
        receiver's gate; then the gate opens, and the backlog's delivery is measured."""
        gated = GatedReceiver()
        config = uvicorn.Config(gated, log_level="warning", lifespan="off", access_log=False)
        async with serve_asgi(config) as hook_url:
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
            gated.receiver.add_secret(0, secret)
            response = await self.http.post(
                "/api/webhooks",
                json={"url": f"{hook_url}/0", "secret": secret, "events": ["job.state"]},
            )
            response.raise_for_status()
            await self.lifecycle(count)
            expected = len(STATE_EVENTS) * count
            async with self._measured("webhooks") as spent:
                gated.release(expected)
                await gated.all_in(TIMEOUT)
            await self.http.delete(f"/api/webhooks/{response.json()['id']}")
        log = gated.receiver.log
        return StageResult(
            "webhook delivery",
            expected,
            spent.cpu_ns,
            spent.wall_s,
            {
                "verified": log.verified,
                "failed_verification": log.failed,
                "states": dict(log.states),
                "held_at_gate": gated.held,
            },
            ok=log.verified == expected and log.failed == 0,
        )

    @contextlib.asynccontextmanager
    async def _measured(self, stage: str) -> AsyncIterator[Spent]:
        out = self.profile / f"{stage}.txt" if self.profile else None
        async with sampled(self.intake.pid, out), measured(self.intake.pid) as spent:
            yield spent

    async def offline(self) -> None:
        """Wait until the server has seen the agent go: the computer reads ``offline``."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                response = await self.http.get("/api/computers")
                response.raise_for_status()
                if all(c["state"] == "offline" for c in response.json()):
                    return
                await asyncio.sleep(0.05)  # the server announces nothing: ask again

    async def states(self, ids: list[str]) -> Counter[str]:
        """The states of these jobs, read through ``GET /api/printjobs`` pages."""
        wanted = set(ids)
        found: Counter[str] = Counter()
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 1000, "dir": "asc"}
            if after:
                params["after"] = after
            response = await self.http.get("/api/printjobs", params=params)
            response.raise_for_status()
            page = response.json()
            found.update(job["state"] for job in page if job["id"] in wanted)
            if len(page) < 1000:
                return found
            after = page[-1]["id"]


def _other(statuses: Counter[int], expected: int) -> dict[str, int]:
    return {str(status): n for status, n in statuses.items() if status != expected}
