"""The composition root: what one server process holds for its lifetime, built from
the settings, and handed out in the small pieces each edge uses (:class:`Ports` to
the HTTP edges, :class:`AgentPorts` to the agents' socket)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from printcloud.server import effects
from printcloud.server.accounts.service import Principal
from printcloud.server.agents.admission import Admission
from printcloud.server.agents.dispatch import Dispatcher
from printcloud.server.agents.socket import AgentPorts, restarting
from printcloud.server.bus import Bus, LocalBus, RedisBus
from printcloud.server.db.checkpointer import WalCheckpointer
from printcloud.server.db.database import Database
from printcloud.server.db.group_commit import Transactions
from printcloud.server.health import Readiness
from printcloud.server.jobs.intake import Intake
from printcloud.server.keycache import KeyCache
from printcloud.server.mail import Mailer
from printcloud.server.periodic import Periodic
from printcloud.server.ports import Ports
from printcloud.server.ratelimit import (
    FallbackRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from printcloud.server.retention import pruner
from printcloud.server.settings import Settings
from printcloud.server.webhooks.delivery import DeliveryWorker

log = structlog.get_logger(__name__)

# A Redis call that takes longer has failed: a request never hangs on a Redis that has
# stopped answering (the limiter then counts here for a while, the bus drops a hint).
REDIS_TIMEOUT = 0.5


def redis_client(url: str) -> Redis:
    """A client that fails fast: short timeouts and no retries of its own (redis-py's
    default retries a refused connection ten times, with back-off, inside one call)."""
    return Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


@dataclass(frozen=True)
class _Effects:
    """Where the effects of committed transactions go in a server process."""

    dispatcher: Dispatcher
    webhooks: DeliveryWorker | None  # None: this process does not deliver webhooks

    async def wake_computers(self, computer_ids: list[str]) -> None:
        for computer_id in computer_ids:
            await self.dispatcher.wake(computer_id)

    async def computers_removed(self, computer_ids: list[str]) -> None:
        for computer_id in computer_ids:
            await self.dispatcher.removed(computer_id)

    async def webhooks_due(self) -> None:
        if self.webhooks is not None:
            self.webhooks.wake()

    async def jobs_cancelled(self, computer_id: str, job_ids: list[str]) -> None:
        await self.dispatcher.cancelled(computer_id, job_ids)

    async def key_revoked(self, key_id: str) -> None:
        await self.dispatcher.key_revoked(key_id)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    limiter: RateLimiter
    dispatcher: Dispatcher
    webhooks: DeliveryWorker
    pruner: Periodic
    principals: KeyCache[Principal]
    intake: Intake
    transactions: Transactions
    checkpointer: WalCheckpointer | None  # embedded SQLite only
    admission: Admission = field(init=False)
    readiness: Readiness = field(init=False)
    started: bool = False

    def __post_init__(self) -> None:
        self.admission = Admission(self.settings.ws_max_handshakes)
        url = self.settings.redis_url
        self.readiness = Readiness(
            self.database,
            redis_client(url) if url else None,
            stopping=lambda: self.dispatcher.stopping,
            bus_connected=lambda: self.dispatcher.bus_connected,
        )

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        database = Database.open(settings.database_url_resolved)
        limiter: RateLimiter
        bus: Bus
        if settings.redis_url:
            limiter = FallbackRateLimiter(
                RedisRateLimiter(redis_client(settings.redis_url)), MemoryRateLimiter()
            )
            bus = RedisBus(redis_client(settings.redis_url))
        else:
            limiter = MemoryRateLimiter()
            bus = LocalBus()
        principals: KeyCache[Principal] = KeyCache()
        transactions = Transactions(database.sessionmaker)
        dispatcher = Dispatcher(
            settings,
            database,
            bus,
            instance_id="inst_" + secrets.token_hex(8),
            on_key_revoked=principals.forget_key,
            transactions=transactions,
        )
        webhooks = DeliveryWorker(settings, database.sessionmaker)
        effects.bind(
            database.sessionmaker,
            _Effects(dispatcher, webhooks if settings.run_webhook_worker else None),
        )
        return cls(
            settings,
            database,
            limiter,
            dispatcher,
            webhooks,
            pruner(settings, database.sessionmaker),
            principals,
            Intake(database.sessionmaker),
            transactions,
            WalCheckpointer.for_url(settings.database_url_resolved),
        )

    @property
    def engine(self) -> AsyncEngine:
        return self.database.engine

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.database.sessionmaker

    @property
    def ports(self) -> Ports:
        return Ports(
            self.settings,
            self.database,
            self.limiter,
            self.principals,
            Mailer(self.settings.smtp, self.settings.smtp_from),
        )

    @property
    def agent_ports(self) -> AgentPorts:
        return AgentPorts(
            self.settings,
            self.database,
            self.dispatcher,
            self.transactions,
            self.admission,
            self.principals,
        )

    async def start(self) -> None:
        """Start the background work: the bus subscription and the sweep, webhook
        delivery (unless turned off) and pruning."""
        await self.dispatcher.start()
        if self.settings.run_webhook_worker:
            self.webhooks.start()
        self.pruner.start()
        if self.checkpointer is not None:
            self.checkpointer.start()
        self.started = True

    async def release_agents(self) -> None:
        """A shutdown, before the server closes its sockets: every agent is told to come
        back (close 1012), each at its own moment, spread over the time the next server
        needs to take them all. Their computers go offline together when the dispatcher
        stops, in one statement, instead of one transaction per socket."""
        links = await self.dispatcher.release_all(self.settings.ws_shutdown_grace)
        # In a cluster the others take them too (this instance counts itself once).
        instances = await self.dispatcher.live_instances()
        hints = self.admission.restart_hints(len(links), instances)
        log.info(
            "agents_released",
            count=len(links),
            instances=instances,
            admission_rate=round(self.admission.rate),
            last_back_in=round(max(hints, default=0.0), 1),
        )
        closes = [restarting(hint) for hint in hints]
        await asyncio.gather(
            *(link.close(c.code, c.reason) for link, c in zip(links, closes, strict=True))
        )

    async def close(self) -> None:
        if self.started:
            await self.pruner.stop()
            await self.webhooks.stop()
            await self.dispatcher.stop()
            if self.checkpointer is not None:
                self.checkpointer.stop()
            self.started = False
        await self.limiter.close()
        await self.readiness.close()
        await self.database.close()
