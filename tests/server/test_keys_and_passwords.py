from __future__ import annotations

import string
from typing import Literal

import pytest
from argon2 import PasswordHasher

from printcloud.server.accounts import keys, passwords


def test_generated_keys_are_well_formed_and_distinct() -> None:
    generated = {keys.generate() for _ in range(200)}
    assert len(generated) == 200
    for key in generated:
        assert key.startswith("pk_live_")
        assert len(key) == keys.KEY_LENGTH
        assert keys.is_well_formed(key)


def test_any_single_changed_character_is_caught_by_the_checksum() -> None:
    key = keys.generate()
    for position in range(len(keys.PREFIX), len(key)):
        for replacement in "0aZ":
            if key[position] == replacement:
                continue
            changed = key[:position] + replacement + key[position + 1 :]
            assert not keys.is_well_formed(changed), (position, replacement)


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "pk_live_",
        "pk_test_" + "a" * 38,
        "pk_live_" + "!" * 38,
    ],
)
def test_malformed_keys(candidate: str) -> None:
    assert not keys.is_well_formed(candidate)


def test_truncated_and_extended_keys_are_refused() -> None:
    key = keys.generate()
    assert not keys.is_well_formed(key[:-1])
    assert not keys.is_well_formed(key + "a")


def test_only_a_hash_and_a_short_prefix_are_derived() -> None:
    key = keys.generate()
    digest = keys.hash_key(key)
    assert len(digest) == 64
    assert set(digest) <= set(string.hexdigits.lower())
    assert key.startswith(keys.display_prefix(key))
    assert len(keys.display_prefix(key)) < len(key) // 2


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "empty"),
        ("        ", "empty"),
        ("short1!", "at least 8"),
        ("password", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("x" * 1025, "at most"),
    ],
)
def test_weak_passwords(password: str, reason: str) -> None:
    problem = passwords.weakness(password)
    assert problem is not None
    assert reason in problem


def test_good_password() -> None:
    assert passwords.weakness("correct horse battery") is None


async def test_hash_is_argon2id_and_verifies() -> None:
    hashed = await passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert await passwords.verify_password(hashed, "correct horse battery")
    assert not await passwords.verify_password(hashed, "wrong horse battery")


async def test_an_unknown_user_costs_a_full_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    # A missing user must not answer faster than a wrong password: the same argon2
    # verification runs against a dummy hash, and even its right password fails.
    verified: list[str | bytes] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    assert not await passwords.verify_password(None, "printcloud-dummy-password")
    assert not await passwords.verify_password(None, "anything else")
    assert len(verified) == 2
    assert all(str(h).startswith("$argon2id$") for h in verified)
