"""The API key format and the permission table, pinned as the API contract states them.

Nothing here reads the code's own constants (``KEY_LENGTH``, ``PREFIX``, ``ALLOWED``):
a change to them that refused every key already issued, or widened a permission,
would pass a test that compares the code with itself.
"""

from __future__ import annotations

import hashlib
import string
import zlib

import pytest

from printcloud.server.accounts import keys
from printcloud.server.accounts.permissions import Action, Permission, allows

# Generated once by keys.generate() and written here: a key issued then is a key forever.
ISSUED_KEY = "pk_live_24YCtsfoVXNM0yE0r277WCderWVjuUgi2YYvYj"
ISSUED_KEY_SHA256 = "a3077a9315f682849bb4c43fac407f7ebdb01cda049dc568c6505b0e98c99f89"
BASE62 = string.digits + string.ascii_letters


def checksummed(text: str) -> str:
    """``text`` with the checksum the format prescribes: CRC-32 of ``text``, in six
    base-62 digits (0-9, a-z, A-Z), most significant first."""
    number, digits = zlib.crc32(text.encode()), ""
    for _ in range(6):
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    return text + digits


def test_a_key_issued_before_stays_well_formed() -> None:
    assert len(ISSUED_KEY) == 46
    assert keys.is_well_formed(ISSUED_KEY)


def test_the_format_is_the_prefix_32_base62_characters_and_their_crc32_in_base62() -> None:
    assert checksummed(ISSUED_KEY[:-6]) == ISSUED_KEY
    key = checksummed("pk_live_" + "0123456789abcdefghijklmnopqrstuV")
    assert len(key) == len("pk_live_") + 32 + 6 == 46
    assert keys.is_well_formed(key)


def test_generated_keys_have_the_documented_shape() -> None:
    for _ in range(50):
        key = keys.generate()
        assert len(key) == 46
        assert key.startswith("pk_live_")
        assert set(key[8:]) <= set(BASE62)
        assert checksummed(key[:-6]) == key
        assert keys.is_well_formed(key)


@pytest.mark.parametrize(
    ("candidate", "what"),
    [
        (ISSUED_KEY[:-6] + "000000", "a wrong checksum"),
        (ISSUED_KEY[:-1] + ("a" if ISSUED_KEY[-1] != "a" else "b"), "its last character changed"),
        (ISSUED_KEY[:20] + "x" + ISSUED_KEY[21:], "a body character changed"),
        (checksummed("pk_test_" + ISSUED_KEY[8:-6]), "another prefix, its checksum right"),
        (checksummed("PK_LIVE_" + ISSUED_KEY[8:-6]), "the prefix in capitals"),
        (checksummed("pk_live_" + "-" * 32), "a body of non-base62 characters"),
        (checksummed("pk_live_" + ISSUED_KEY[8:-7] + "_"), "one non-base62 character last"),
        (checksummed("pk_live_" + "é" + ISSUED_KEY[9:-6]), "a non-ASCII letter"),
        (checksummed("pk_live_" + ISSUED_KEY[8:-7]), "one character short, checksum right"),
        (checksummed("pk_live_" + ISSUED_KEY[8:-6] + "a"), "one character long, checksum right"),
        (ISSUED_KEY[:-1], "truncated by one"),
        (ISSUED_KEY + "a", "one character appended"),
        (ISSUED_KEY[1:], "its first character lost"),
        (" " + ISSUED_KEY[:-1], "a space in front, the length right"),
        ("", "empty"),
        ("pk_live_", "the prefix alone"),
    ],
)
def test_a_malformed_key_is_refused(candidate: str, what: str) -> None:
    assert not keys.is_well_formed(candidate), what


def test_the_hash_stored_is_the_sha256_hex_of_the_key() -> None:
    assert keys.hash_key(ISSUED_KEY) == ISSUED_KEY_SHA256
    assert keys.hash_key(ISSUED_KEY) == hashlib.sha256(ISSUED_KEY.encode()).hexdigest()


def test_the_key_list_shows_the_first_14_characters() -> None:
    assert keys.display_prefix(ISSUED_KEY) == "pk_live_24YCts"


CONTRACT = {
    "full": {"read", "print", "manage"},
    "print_only": {"read", "print"},
    "read_only": {"read"},
}


def test_the_permissions_and_actions_are_the_contracts_words() -> None:
    assert {p.value for p in Permission} == set(CONTRACT)
    assert {a.value for a in Action} == {"read", "print", "manage"}


@pytest.mark.parametrize("permission", sorted(CONTRACT))
@pytest.mark.parametrize("action", ["read", "print", "manage"])
def test_each_permission_allows_exactly_what_the_contract_says(
    permission: str, action: str
) -> None:
    expected = action in CONTRACT[permission]
    assert allows(Permission(permission), Action(action)) is expected
