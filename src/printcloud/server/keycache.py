"""Who an API key is, remembered for a short while.

Every API request authenticates its key, and reading the key's row costs a
transaction on the one SQLite connection that every request and agent shares. The
answer changes only when the key is revoked, and a revocation makes every instance
forget the key (the ``key_revoked`` effect here, the bus's ``revoked`` elsewhere).
The bus between instances may drop a message, so an entry also expires after
``ttl`` seconds: that bounds how long a revoked key can still work on another
instance of a cluster. Only keys that authenticated are remembered; a refusal is
always read again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL = 10.0
DEFAULT_SIZE = 10_000


class KeyCache(Generic[T]):
    """``key hash → (answer, key id)``, each entry for ``ttl`` seconds at most."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        size: int = DEFAULT_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: dict[str, tuple[T, str, float]] = {}
        # Bumped by every revocation: an answer read before one is not remembered, or a
        # read that raced a revocation would bring the revoked key back.
        self.generation = 0

    def get(self, key_hash: str) -> T | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        answer, _, expires = entry
        if self._clock() >= expires:
            del self._entries[key_hash]
            return None
        return answer

    def put(self, key_hash: str, key_id: str, answer: T, generation: int) -> None:
        """Remember ``answer``, read when :attr:`generation` was ``generation``."""
        if generation != self.generation:
            return
        if len(self._entries) >= self._size:
            # The oldest insertion goes: dicts keep their order, and an evicted key is
            # only read again.
            del self._entries[next(iter(self._entries))]
        self._entries[key_hash] = (answer, key_id, self._clock() + self._ttl)

    def forget_key(self, key_id: str) -> None:
        """The key was revoked: the next request with it reads its row again."""
        self.generation += 1
        for key_hash in [h for h, (_, kid, _) in self._entries.items() if kid == key_id]:
            del self._entries[key_hash]

    def clear(self) -> None:
        self._entries.clear()
