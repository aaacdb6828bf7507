"""IPP encoding and decoding, on hand-built bytes (RFC 8010 section 3)."""

from __future__ import annotations

import contextlib
import random
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest

from printcloud.protocol import ipp
from printcloud.protocol.ipp import (
    GroupTag,
    IppError,
    LanguageString,
    Operation,
    Range,
    RawValue,
    Resolution,
    ValueTag,
    attr,
)


def value(tag: int, name: str, data: bytes) -> bytes:
    """One attribute-with-one-value (or an additional value when name is empty)."""
    encoded = name.encode()
    return (
        bytes([tag])
        + struct.pack(">H", len(encoded))
        + encoded
        + struct.pack(">H", len(data))
        + data
    )


def header(code: int = 0x0000, request_id: int = 7) -> bytes:
    return struct.pack(">BBHI", 2, 0, code, request_id)


def integer(number: int) -> bytes:
    return struct.pack(">i", number)


OPERATION_GROUP = (
    bytes([GroupTag.OPERATION])
    + value(ValueTag.CHARSET, "attributes-charset", b"utf-8")
    + value(ValueTag.NATURAL_LANGUAGE, "attributes-natural-language", b"en")
)

# media-col = {media-size = {x-dimension = 21000, y-dimension = 29700}, media-source = tray-1}
MEDIA_COL = (
    value(ValueTag.BEG_COLLECTION, "media-col", b"")
    + value(ValueTag.MEMBER_ATTR_NAME, "", b"media-size")
    + value(ValueTag.BEG_COLLECTION, "", b"")
    + value(ValueTag.MEMBER_ATTR_NAME, "", b"x-dimension")
    + value(ValueTag.INTEGER, "", integer(21000))
    + value(ValueTag.MEMBER_ATTR_NAME, "", b"y-dimension")
    + value(ValueTag.INTEGER, "", integer(29700))
    + value(ValueTag.END_COLLECTION, "", b"")
    + value(ValueTag.MEMBER_ATTR_NAME, "", b"media-source")
    + value(ValueTag.KEYWORD, "", b"tray-1")
    + value(ValueTag.END_COLLECTION, "", b"")
)

PRINTER_RESPONSE = (
    header(0x0001, 42)
    + OPERATION_GROUP
    + value(ValueTag.TEXT, "status-message", b"ok, mostly")
    + bytes([GroupTag.PRINTER])
    + value(ValueTag.NAME, "printer-name", b"Office")
    + value(ValueTag.KEYWORD, "sides-supported", b"one-sided")
    + value(ValueTag.KEYWORD, "", b"two-sided-long-edge")
    + value(ValueTag.KEYWORD, "", b"two-sided-short-edge")
    + value(ValueTag.BOOLEAN, "color-supported", b"\x01")
    + value(ValueTag.ENUM, "printer-state", integer(3))
    + value(ValueTag.RANGE_OF_INTEGER, "copies-supported", integer(1) + integer(999))
    + value(
        ValueTag.RESOLUTION, "printer-resolution-default", integer(600) + integer(300) + b"\x03"
    )
    + MEDIA_COL
    + value(ValueTag.NO_VALUE, "printer-info", b"")
    + value(ValueTag.UNKNOWN, "printer-location", b"")
    + value(ValueTag.OCTET_STRING, "printer-supply", b"\x00\xffraw")
    + bytes([GroupTag.PRINTER])
    + value(ValueTag.NAME, "printer-name", b"Labels")
    + bytes([GroupTag.UNSUPPORTED])
    + value(ValueTag.UNSUPPORTED, "finishings", b"")
    + bytes([GroupTag.END])
    + b"%PDF-document-data"
)


def test_a_response_decodes_into_ordered_groups() -> None:
    message = ipp.parse(PRINTER_RESPONSE)

    assert message.version == (2, 0)
    assert message.status == 0x0001
    assert message.status_name == "successful-ok-ignored-or-substituted-attributes"
    assert message.ok
    assert message.request_id == 42
    assert message.status_message == "ok, mostly"
    assert [tag for tag, _ in message.groups] == [
        GroupTag.OPERATION,
        GroupTag.PRINTER,
        GroupTag.PRINTER,
        GroupTag.UNSUPPORTED,
    ]
    printer = message.all(GroupTag.PRINTER)[0]
    assert list(printer) == [
        "printer-name",
        "sides-supported",
        "color-supported",
        "printer-state",
        "copies-supported",
        "printer-resolution-default",
        "media-col",
        "printer-info",
        "printer-location",
        "printer-supply",
    ]
    assert printer["sides-supported"] == [
        "one-sided",
        "two-sided-long-edge",
        "two-sided-short-edge",
    ]
    assert printer["color-supported"] == [True]
    assert printer["printer-state"] == [ipp.PrinterState.IDLE]
    assert printer["copies-supported"] == [Range(1, 999)]
    assert printer["printer-resolution-default"] == [Resolution(600, 300, 3)]
    assert printer["media-col"] == [
        {
            "media-size": [{"x-dimension": [21000], "y-dimension": [29700]}],
            "media-source": ["tray-1"],
        }
    ]
    assert printer["printer-info"] == [ipp.NO_VALUE]
    assert printer["printer-location"] == [ipp.UNKNOWN]
    assert printer["printer-supply"] == [b"\x00\xffraw"]
    assert message.all(GroupTag.PRINTER)[1] == {"printer-name": ["Labels"]}
    assert message.first(GroupTag.UNSUPPORTED) == {"finishings": [ipp.UNSUPPORTED]}
    assert message.first(GroupTag.JOB) == {}
    assert message.value("printer-name", GroupTag.PRINTER) == "Office"
    assert message.value("job-id") is None
    assert message.data == b"%PDF-document-data"


def test_a_1setof_collection_and_values_with_language() -> None:
    with_language = struct.pack(">H", 2) + b"fr" + struct.pack(">H", 6) + b"Bureau"
    body = (
        header()
        + bytes([GroupTag.PRINTER])
        + value(ValueTag.BEG_COLLECTION, "media-col-database", b"")
        + value(ValueTag.MEMBER_ATTR_NAME, "", b"media-source")
        + value(ValueTag.KEYWORD, "", b"main")
        + value(ValueTag.KEYWORD, "", b"photo")  # a 1setOf member
        + value(ValueTag.END_COLLECTION, "", b"")
        + value(ValueTag.BEG_COLLECTION, "", b"")  # the set's second collection
        + value(ValueTag.END_COLLECTION, "", b"")
        + value(ValueTag.NAME_WITH_LANGUAGE, "printer-name", with_language)
        + value(ValueTag.TEXT_WITH_LANGUAGE, "printer-info", with_language)
        + bytes([GroupTag.END])
    )
    printer = ipp.parse(body).first(GroupTag.PRINTER)

    assert printer["media-col-database"] == [{"media-source": ["main", "photo"]}, {}]
    name = printer["printer-name"][0]
    assert isinstance(name, LanguageString)
    assert name == "Bureau"
    assert name.language == "fr"


def test_datetime_decodes_with_its_offset_or_stays_raw() -> None:
    good = struct.pack(">HBBBBBBcBB", 2026, 11, 28, 3, 34, 40, 5, b"-", 5, 30)
    impossible = struct.pack(">HBBBBBBcBB", 2026, 13, 28, 3, 34, 40, 0, b"+", 0, 0)
    bad_sign = struct.pack(">HBBBBBBcBB", 2026, 11, 28, 3, 34, 40, 0, b"?", 0, 0)
    body = (
        header()
        + bytes([GroupTag.JOB])
        + value(ValueTag.DATETIME, "a", good)
        + value(ValueTag.DATETIME, "b", impossible)
        + value(ValueTag.DATETIME, "c", bad_sign)
        + bytes([GroupTag.END])
    )
    job = ipp.parse(body).first(GroupTag.JOB)

    offset = timezone(-timedelta(hours=5, minutes=30))
    assert job["a"] == [datetime(2026, 11, 28, 3, 34, 40, 500_000, tzinfo=offset)]
    assert job["b"] == [RawValue(ValueTag.DATETIME, impossible)]
    assert job["c"] == [RawValue(ValueTag.DATETIME, bad_sign)]


def test_unknown_value_tags_are_kept_raw() -> None:
    body = header() + bytes([GroupTag.JOB]) + value(0x4B, "x-new", b"\x01\x02") + bytes([3])
    assert ipp.parse(body).first(GroupTag.JOB) == {"x-new": [RawValue(0x4B, b"\x01\x02")]}


def test_a_request_round_trips() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = ipp.request(
        Operation.PRINT_JOB,
        9,
        [
            attr("printer-uri", ValueTag.URI, "ipp://localhost/printers/PDFQ"),
            attr("requesting-user-name", ValueTag.NAME, "zoë"),
            attr("job-name", ValueTag.NAME_WITH_LANGUAGE, LanguageString("Facture", "fr")),
            attr("document-format", ValueTag.MIME_MEDIA_TYPE, "application/pdf"),
        ],
        [
            attr("copies", ValueTag.INTEGER, 2),
            attr("page-ranges", ValueTag.RANGE_OF_INTEGER, Range(1, 5), Range(8, 8)),
            attr("printer-resolution", ValueTag.RESOLUTION, Resolution(300, 300)),
            attr("ipp-attribute-fidelity", ValueTag.BOOLEAN, False),
            attr("finishings", ValueTag.ENUM, 3, 4),
            attr("job-hold-until-time", ValueTag.DATETIME, when),
            attr("job-password", ValueTag.OCTET_STRING, b"\x00\x01"),
            attr("job-account-id", ValueTag.NO_VALUE, ipp.NO_VALUE),
            attr(
                "media-col",
                ValueTag.BEG_COLLECTION,
                [
                    attr(
                        "media-size",
                        ValueTag.BEG_COLLECTION,
                        [
                            attr("x-dimension", ValueTag.INTEGER, 21000),
                            attr("y-dimension", ValueTag.INTEGER, 29700),
                        ],
                    ),
                    attr("media-source", ValueTag.KEYWORD, "main"),
                ],
                [attr("media-type", ValueTag.KEYWORD, "stationery", "labels")],
            ),
        ],
        data=b"%PDF-1.4...",
    )
    message = ipp.parse(body)

    assert message.code == Operation.PRINT_JOB
    assert message.request_id == 9
    operation = message.first(GroupTag.OPERATION)
    assert list(operation)[:2] == ["attributes-charset", "attributes-natural-language"]
    assert operation["requesting-user-name"] == ["zoë"]
    assert operation["job-name"] == ["Facture"]
    assert operation["job-name"][0].language == "fr"  # type: ignore[union-attr]
    assert message.first(GroupTag.JOB) == {
        "copies": [2],
        "page-ranges": [Range(1, 5), Range(8, 8)],
        "printer-resolution": [Resolution(300, 300, 3)],
        "ipp-attribute-fidelity": [False],
        "finishings": [3, 4],
        "job-hold-until-time": [when],
        "job-password": [b"\x00\x01"],
        "job-account-id": [ipp.NO_VALUE],
        "media-col": [
            {
                "media-size": [{"x-dimension": [21000], "y-dimension": [29700]}],
                "media-source": ["main"],
            },
            {"media-type": ["stationery", "labels"]},
        ],
    }
    assert message.data == b"%PDF-1.4..."


def test_hand_built_collection_encodes_as_specified() -> None:
    encoded = ipp.encode(
        0x0000,
        1,
        [
            (
                GroupTag.JOB,
                [
                    attr(
                        "media-col",
                        ValueTag.BEG_COLLECTION,
                        [
                            attr(
                                "media-size",
                                ValueTag.BEG_COLLECTION,
                                [
                                    attr("x-dimension", ValueTag.INTEGER, 21000),
                                    attr("y-dimension", ValueTag.INTEGER, 29700),
                                ],
                            ),
                            attr("media-source", ValueTag.KEYWORD, "tray-1"),
                        ],
                    )
                ],
            )
        ],
    )
    assert encoded == header(0, 1) + bytes([GroupTag.JOB]) + MEDIA_COL + bytes([GroupTag.END])


@pytest.mark.parametrize(
    ("tag", "bad"),
    [
        (ValueTag.INTEGER, "2"),
        (ValueTag.INTEGER, True),
        (ValueTag.BOOLEAN, 1),
        (ValueTag.KEYWORD, 5),
        (ValueTag.RANGE_OF_INTEGER, (1, 5)),
        (ValueTag.OCTET_STRING, "text"),
        (ValueTag.INTEGER, 2**31),
        (ValueTag.NAME_WITH_LANGUAGE, "no language"),
        (ValueTag.BEG_COLLECTION, "not members"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(tag: ValueTag, bad: object) -> None:
    with pytest.raises(IppError):
        ipp.request(Operation.PRINT_JOB, 1, [attr("x", tag, bad)])  # type: ignore[arg-type]


def test_unencodable_attributes_are_refused() -> None:
    with pytest.raises(IppError, match="longer than 65535"):
        ipp.request(Operation.PRINT_JOB, 1, [attr("x", ValueTag.TEXT, "a" * 70000)])
    with pytest.raises(IppError, match="at least one value"):
        attr("x", ValueTag.TEXT)
    with pytest.raises(IppError, match="not a group tag"):
        ipp.encode(0, 1, [(GroupTag.END, [])])


def test_every_truncation_is_an_ipp_error() -> None:
    complete = PRINTER_RESPONSE[: PRINTER_RESPONSE.index(b"%PDF-document-data")]
    for length in range(len(complete)):
        with pytest.raises(IppError):
            ipp.parse(complete[:length])


def test_corrupted_bytes_never_raise_anything_but_ipp_error() -> None:
    rng = random.Random(8010)
    for _ in range(3000):
        corrupted = bytearray(PRINTER_RESPONSE)
        for _ in range(rng.randint(1, 4)):
            corrupted[rng.randrange(8, len(corrupted))] = rng.randrange(256)
        with contextlib.suppress(IppError):
            ipp.parse(bytes(corrupted))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (header() + value(ValueTag.KEYWORD, "a", b"b") + b"\x03", "before any attribute group"),
        (header() + b"\x02" + value(ValueTag.KEYWORD, "", b"b") + b"\x03", "additional value"),
        (header() + b"\x00\x03", "reserved delimiter"),
        (header() + b"\x02" + value(ValueTag.INTEGER, "a", b"\x00\x01") + b"\x03", "2 bytes"),
        (header() + b"\x02" + value(ValueTag.BOOLEAN, "a", b"") + b"\x03", "0 bytes"),
        (header() + b"\x02" + value(ValueTag.RESOLUTION, "a", integer(1)) + b"\x03", "4 bytes"),
        (header() + b"\x02" + value(ValueTag.BEG_COLLECTION, "a", b"") + b"\x03", "unterminated"),
        (header() + b"\x02" + value(ValueTag.END_COLLECTION, "a", b"") + b"\x03", "outside"),
        (header() + b"\x02" + value(ValueTag.MEMBER_ATTR_NAME, "", b"m") + b"\x03", "outside"),
        (
            header()
            + b"\x02"
            + value(ValueTag.BEG_COLLECTION, "a", b"")
            + value(ValueTag.INTEGER, "", integer(1))
            + value(ValueTag.END_COLLECTION, "", b""),
            "without a member name",
        ),
        (
            header()
            + b"\x02"
            + value(ValueTag.BEG_COLLECTION, "a", b"")
            + value(ValueTag.MEMBER_ATTR_NAME, "", b"")
            + value(ValueTag.END_COLLECTION, "", b""),
            "empty member name",
        ),
        (
            header() + b"\x02" + value(ValueTag.TEXT_WITH_LANGUAGE, "a", b"\x00\x05fr") + b"\x03",
            "malformed value with language",
        ),
        (header() + b"\x02" + value(ValueTag.KEYWORD, "a", b"b"), "no end-of-attributes"),
        (header()[:5], "the header"),
    ],
)
def test_malformed_messages_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(IppError, match=message):
        ipp.parse(body)


def test_collections_cannot_nest_without_end() -> None:
    depth = ipp.MAX_COLLECTION_DEPTH + 1
    nested = (
        value(ValueTag.BEG_COLLECTION, "a", b"")
        + (value(ValueTag.MEMBER_ATTR_NAME, "", b"m") + value(ValueTag.BEG_COLLECTION, "", b""))
        * depth
    )
    with pytest.raises(IppError, match="nested deeper"):
        ipp.parse(header() + b"\x02" + nested)


def test_status_names() -> None:
    assert ipp.status_name(0x0406) == "client-error-not-found"
    assert ipp.status_name(0x0506) == "server-error-not-accepting-jobs"
    assert ipp.status_name(0x0BAD) == "0x0bad"
    refused = ipp.parse(header(0x0406) + OPERATION_GROUP + b"\x03")
    assert not refused.ok
    assert refused.status_message == ""
