"""``/healthz`` and ``/readyz``: what a load balancer or an orchestrator asks.

``/healthz`` says the process is alive and serving: 200 always, nothing checked, so
that a database outage never gets every instance restarted at once. ``/readyz`` says
whether this instance can do its work now: the database answers a trivial query and
is at the migrations this code expects, Redis answers PING and this instance's
subscription to the bus is live in the cluster shape, and it is not shutting down;
otherwise 503, naming what failed. Both answer without authentication or rate limit,
within a second or two whatever is down, and say nothing of addresses or errors (the
log has those). They are operations, not the
API: the OpenAPI document, which is API.md's contract, leaves them out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import SQLAlchemyError

from printcloud.server.availability import DependencyUnavailable
from printcloud.server.db.database import Database
from printcloud.server.db.migrate import applied_revisions, head_revisions

router = APIRouter(include_in_schema=False)

# A check that takes longer has failed: a probe must answer before its own timeout.
CHECK_TIMEOUT = 2.0

OK = "ok"


@dataclass
class Readiness:
    database: Database
    redis: Redis | None  # the cluster shape
    stopping: Callable[[], bool] = lambda: False
    bus_connected: Callable[[], bool] = lambda: True

    async def checks(self) -> dict[str, str]:
        """Each check's name, and ``"ok"`` or what is wrong."""
        database, migrations = await self._database()
        results = {"database": database, "migrations": migrations}
        if self.redis is not None:
            results["redis"] = await self._redis(self.redis)
            if results["redis"] == OK and not self.bus_connected():
                results["redis"] = "bus not subscribed yet"
        results["accepting"] = "shutting down" if self.stopping() else OK
        return results

    async def _database(self) -> tuple[str, str]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                async with self.database.sessionmaker() as session:
                    applied = await applied_revisions(session)
        except TimeoutError:
            return "timed out", "not checked"
        except (DependencyUnavailable, OSError):
            return "unavailable", "not checked"
        except SQLAlchemyError:  # answering, but not a PrintCloud database (yet)
            return OK, "not applied: run `printcloud serve` once to migrate"
        if applied != head_revisions():
            return OK, "not at the code's head: run `printcloud serve` once to migrate"
        return OK, OK

    @staticmethod
    async def _redis(redis: Redis) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await redis.ping()
        except (TimeoutError, RedisTimeoutError):
            return "timed out"
        except (RedisError, OSError):
            return "unavailable"
        return OK

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    checks = await readiness.checks()
    failed = [name for name, result in checks.items() if result != OK]
    if not failed:
        return JSONResponse({"status": "ok", "checks": checks})
    return JSONResponse(
        {
            "code": "ServiceUnavailable",
            "message": "Not ready: " + ", ".join(f"{name} {checks[name]}" for name in failed),
            "status": "unavailable",
            "checks": checks,
        },
        status_code=503,
    )
