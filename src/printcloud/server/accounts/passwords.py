"""Passwords: argon2id hashes, a minimum standard, and constant-time misses."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024
# Passwords that meet the length rule but that every guessing list starts with.
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyui",
        "qwerty123",
        "11111111",
        "00000000",
        "iloveyou",
        "abcdefgh",
        "letmein1",
        "welcome1",
        "admin123",
        "printcloud",
    }
)

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Checked against when the e-mail is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("printcloud-dummy-password")


def weakness(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None when it is."""
    if not password or not password.strip():
        return "the password must not be empty"
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"the password must be at most {MAX_LENGTH} characters long"
    if password.lower() in _COMMON or len(set(password)) < 3:
        return "the password is too easy to guess"
    return None


async def hash_password(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with ``None`` (no such user) spend the same time and fail."""
    return await anyio.to_thread.run_sync(_verify, password_hash, password)
