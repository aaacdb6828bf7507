"""What one server process holds for its lifetime: settings, database, rate limiter,
the bus and the dispatcher of agent connections."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from printcloud.server.bus import Bus, LocalBus, RedisBus
from printcloud.server.db.engine import create_engine, create_sessionmaker
from printcloud.server.events.repository import WAKE_DELIVERY
from printcloud.server.jobs.dispatch import Dispatcher
from printcloud.server.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from printcloud.server.retention import Pruner
from printcloud.server.settings import Settings
from printcloud.server.webhooks.delivery import DeliveryWorker


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter
    dispatcher: Dispatcher
    webhooks: DeliveryWorker
    pruner: Pruner
    started: bool = False

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.database_url_resolved)
        sessionmaker = create_sessionmaker(engine)
        limiter: RateLimiter
        bus: Bus
        if settings.redis_url:
            limiter = RedisRateLimiter(Redis.from_url(settings.redis_url))
            bus = RedisBus(Redis.from_url(settings.redis_url))
        else:
            limiter = MemoryRateLimiter()
            bus = LocalBus()
        dispatcher = Dispatcher(
            settings, sessionmaker, bus, instance_id="inst_" + secrets.token_hex(8)
        )
        webhooks = DeliveryWorker(settings, sessionmaker)
        if settings.run_webhook_worker:
            sessionmaker.configure(info={WAKE_DELIVERY: webhooks.wake})
        pruner = Pruner(settings, sessionmaker)
        return cls(settings, engine, sessionmaker, limiter, dispatcher, webhooks, pruner)

    async def start(self) -> None:
        """Start the background work: the bus subscription and the sweep."""
        await self.dispatcher.start()
        if self.settings.run_webhook_worker:
            await self.webhooks.start()
        self.pruner.start()
        self.started = True

    async def close(self) -> None:
        if self.started:
            await self.pruner.stop()
            await self.webhooks.stop()
            await self.dispatcher.stop()
            self.started = False
        await self.limiter.close()
        await self.engine.dispose()
