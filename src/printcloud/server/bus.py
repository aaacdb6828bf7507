"""The wake-up bus between server instances: a hint, never the truth.

``wake`` says "this computer may have jobs to send"; ``kick`` says "this computer
has a new connection, close any other"; ``removed`` says "this computer was
deleted, close its connection"; ``cancel`` says "these jobs of this computer were
deleted, tell its agent"; ``revoked`` says "this key was revoked, close every
connection it opened". Embedded, the bus is a function call;
in a cluster it is Redis pub/sub, which may drop a message: then the sweep,
which reads the database, sends the job a few seconds later. While Redis is away
publishing drops every message and the subscription is tried again and again; once
it is back, ``on_gap`` runs (the dispatcher sweeps at once for what was missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

import structlog
from redis.asyncio import Redis

from printcloud.server.availability import Availability

log = structlog.get_logger(__name__)

CHANNEL = "printcloud:bus"


@dataclass(frozen=True)
class BusMessage:
    kind: Literal["wake", "kick", "removed", "cancel", "revoked"]
    computer_id: str = ""
    connection_id: str | None = None
    job_ids: tuple[str, ...] = ()
    key_id: str | None = None


Handler = Callable[[BusMessage], Awaitable[None]]
# What to do when messages may have been lost (the subscription was broken and is back).
GapHandler = Callable[[], None]


class Bus(Protocol):
    async def start(self, handler: Handler, on_gap: GapHandler = lambda: None) -> None: ...

    async def publish(self, message: BusMessage) -> None: ...

    @property
    def connected(self) -> bool:
        """Messages from other instances arrive (always, in one process)."""

    async def close(self) -> None: ...


class LocalBus:
    """One process: publishing calls the handler."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler, on_gap: GapHandler = lambda: None) -> None:
        self._handler = handler

    async def publish(self, message: BusMessage) -> None:
        if self._handler is not None:
            await self._handler(message)

    @property
    def connected(self) -> bool:
        return True

    async def close(self) -> None:
        self._handler = None


class RedisBus:
    """Every instance subscribes to one channel and acts on what concerns its sockets."""

    def __init__(self, redis: Redis, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._channel = channel
        self._task: asyncio.Task[None] | None = None
        # While Redis is away, one publish a second tries it; the others are dropped at once.
        self.availability = Availability(
            "redis",
            "wake-ups between instances are lost; the sweep sends their jobs",
            client="bus",
            retry_interval=1.0,
        )
        # Set while the subscription is live.
        self.subscribed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.subscribed.is_set()

    async def start(self, handler: Handler, on_gap: GapHandler = lambda: None) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(handler, on_gap, ready), name="redis-bus")
        # Subscribed before start-up completes, so no wake-up after it is missed.
        await asyncio.wait_for(ready.wait(), timeout=10)

    async def _listen(self, handler: Handler, on_gap: GapHandler, ready: asyncio.Event) -> None:
        delay = 0.5
        first = True
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.subscribed.set()
                    ready.set()
                    self.availability.up()
                    if not first:  # what was published meanwhile never came
                        on_gap()
                    first = False
                    delay = 0.5
                    async for raw in pubsub.listen():
                        await self._dispatch(handler, raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away: retry; the sweep covers the gap
                self.subscribed.clear()
                self.availability.down(exc)
                ready.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @staticmethod
    async def _dispatch(handler: Handler, raw: dict[str, object]) -> None:
        try:
            data = json.loads(raw["data"])  # type: ignore[arg-type]
            data["job_ids"] = tuple(data.get("job_ids", ()))  # a JSON list
            message = BusMessage(**data)
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("bus_message_ignored", raw=str(raw)[:200])
            return
        try:
            await handler(message)
        except Exception:
            log.exception("bus_handler_failed", kind=message.kind)

    async def publish(self, message: BusMessage) -> None:
        if not self.availability.worth_trying(time.monotonic()):
            return  # a request that committed does not wait on a Redis known to be away
        try:
            await self._redis.publish(self._channel, json.dumps(asdict(message)))
        except Exception as exc:  # noqa: BLE001 - a lost hint is made good by the sweep
            # Told once, by whichever of publishing and listening notices first.
            self.availability.failed(exc, time.monotonic())
            # The pool's other connections may be dead too: each would fail once more.
            await self._redis.connection_pool.disconnect()
        else:
            self.availability.up()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()
