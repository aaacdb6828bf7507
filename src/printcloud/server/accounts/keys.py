"""API keys: ``pk_live_`` + 32 random characters + a 6-character checksum.

The checksum (CRC-32 of the rest, in base 62, as GitHub's tokens do) lets a
mistyped or truncated key be refused before any database look-up. Only the
SHA-256 of a key is stored: a fast hash is right here because the key is 190
bits of randomness, not a password that could be guessed.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib

PREFIX = "pk_live_"
_BODY_LENGTH = 32
_CHECKSUM_LENGTH = 6
_BASE62 = string.digits + string.ascii_letters
KEY_LENGTH = len(PREFIX) + _BODY_LENGTH + _CHECKSUM_LENGTH
# What the key list shows of a key, enough to tell keys apart.
DISPLAY_PREFIX_LENGTH = len(PREFIX) + 6


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    return "".join(reversed(digits))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode()), _CHECKSUM_LENGTH)


def generate() -> str:
    body = "".join(secrets.choice(_BASE62) for _ in range(_BODY_LENGTH))
    return PREFIX + body + _checksum(PREFIX + body)


def is_well_formed(key: str) -> bool:
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX):
        return False
    body = key[len(PREFIX) : -_CHECKSUM_LENGTH]
    if any(ch not in _BASE62 for ch in body):
        return False
    return secrets.compare_digest(key[-_CHECKSUM_LENGTH:], _checksum(key[:-_CHECKSUM_LENGTH]))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]
