"""Who an API key is, remembered: for a while, and never past its revocation."""

from __future__ import annotations

from printcloud.server.keycache import KeyCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_remembered_until_its_time_is_up() -> None:
    clock = FakeClock()
    cache: KeyCache[str] = KeyCache(ttl=10, clock=clock)
    cache.put("hash-a", "key_a", "acc_1", cache.generation)
    clock.now += 9.9
    assert cache.get("hash-a") == "acc_1"
    clock.now += 0.1
    assert cache.get("hash-a") is None


def test_a_revoked_key_is_forgotten_and_others_are_kept() -> None:
    cache: KeyCache[str] = KeyCache()
    cache.put("hash-a", "key_a", "acc_1", cache.generation)
    cache.put("hash-b", "key_b", "acc_1", cache.generation)
    cache.forget_key("key_a")
    assert cache.get("hash-a") is None
    assert cache.get("hash-b") == "acc_1"


def test_an_answer_read_before_a_revocation_is_not_remembered() -> None:
    cache: KeyCache[str] = KeyCache()
    generation = cache.generation  # a request starts reading the key's row...
    cache.forget_key("key_a")  # ...the key is revoked meanwhile...
    cache.put("hash-a", "key_a", "acc_1", generation)  # ...and the stale answer comes back
    assert cache.get("hash-a") is None


def test_the_oldest_entry_makes_room() -> None:
    cache: KeyCache[int] = KeyCache(size=2)
    for n in range(3):
        cache.put(f"hash-{n}", f"key_{n}", n, cache.generation)
    assert [cache.get(f"hash-{n}") for n in range(3)] == [None, 1, 2]
