"""What one server process holds for its lifetime: settings, database, rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from printcloud.server.db.engine import create_engine, create_sessionmaker
from printcloud.server.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from printcloud.server.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    limiter: RateLimiter

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings.database_url_resolved)
        limiter: RateLimiter
        if settings.redis_url:
            limiter = RedisRateLimiter(Redis.from_url(settings.redis_url))
        else:
            limiter = MemoryRateLimiter()
        return cls(settings, engine, create_sessionmaker(engine), limiter)

    async def close(self) -> None:
        await self.limiter.close()
        await self.engine.dispose()
