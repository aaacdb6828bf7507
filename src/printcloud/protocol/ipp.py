"""The Internet Printing Protocol's message format (RFC 8010/8011): bytes in, bytes out.

No I/O here: :func:`request` builds a request body, :func:`parse` reads a response
(or a request), :func:`encode` writes either. We talk IPP ourselves because the usual
Python binding of CUPS (pycups) is GPL and this project is MIT. Both sides use it: the
agent talks to CUPS, the server is an IPP printer (``server/ipp``).

A message is a version, an operation-id (request) or status-code (response), a
request-id, attribute groups and then the document data. Every attribute is a
tag, a name and one value; further values of the same attribute (a 1setOf)
follow with an empty name. Decoded, a group is ``{name: [values]}``.

Malformed input raises :class:`IppError`, never IndexError or struct.error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import TypeAlias

VERSION = (2, 0)
MAX_COLLECTION_DEPTH = 32  # a hostile peer must not make us recurse without end


class IppError(ValueError):
    """A malformed IPP message, or a value that cannot be encoded."""


class GroupTag(IntEnum):
    OPERATION = 0x01
    JOB = 0x02
    END = 0x03  # end-of-attributes: the document data follow
    PRINTER = 0x04
    UNSUPPORTED = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    RESOURCE = 0x08
    DOCUMENT = 0x09
    SYSTEM = 0x0A


class ValueTag(IntEnum):
    # out-of-band: no value, the tag is the meaning
    UNSUPPORTED = 0x10
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    # integers
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    # octet strings
    OCTET_STRING = 0x30
    DATETIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEG_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    # character strings
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A


class Operation(IntEnum):
    PRINT_JOB = 0x0002
    PRINT_URI = 0x0003
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    SEND_URI = 0x0007
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B
    HOLD_JOB = 0x000C
    RELEASE_JOB = 0x000D
    RESTART_JOB = 0x000E
    PAUSE_PRINTER = 0x0010
    RESUME_PRINTER = 0x0011
    PURGE_JOBS = 0x0012
    CLOSE_JOB = 0x003B
    IDENTIFY_PRINTER = 0x003C
    CUPS_GET_DEFAULT = 0x4001
    CUPS_GET_PRINTERS = 0x4002


class JobState(IntEnum):
    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9


class PrinterState(IntEnum):
    IDLE = 3
    PROCESSING = 4
    STOPPED = 5


STATUS_NAMES = {
    0x0000: "successful-ok",
    0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    0x0406: "client-error-not-found",
    0x0407: "client-error-gone",
    0x0408: "client-error-request-entity-too-large",
    0x0409: "client-error-request-value-too-long",
    0x040A: "client-error-document-format-not-supported",
    0x040B: "client-error-attributes-or-values-not-supported",
    0x040C: "client-error-uri-scheme-not-supported",
    0x040D: "client-error-charset-not-supported",
    0x040E: "client-error-conflicting-attributes",
    0x040F: "client-error-compression-not-supported",
    0x0410: "client-error-compression-error",
    0x0411: "client-error-document-format-error",
    0x0412: "client-error-document-access-error",
    0x0418: "client-error-document-password-error",
    0x0419: "client-error-document-permission-error",
    0x041A: "client-error-document-security-error",
    0x041B: "client-error-document-unprintable-error",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable",
    0x0503: "server-error-version-not-supported",
    0x0504: "server-error-device-error",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
    0x0508: "server-error-job-canceled",
    0x0509: "server-error-multiple-document-jobs-not-supported",
    0x050A: "server-error-printer-is-deactivated",
    0x050B: "server-error-too-many-jobs",
    0x050C: "server-error-too-many-documents",
}


def status_name(code: int) -> str:
    return STATUS_NAMES.get(code, f"0x{code:04x}")


# Values


@dataclass(frozen=True)
class Range:
    """rangeOfInteger: ``lower`` to ``upper``, both included."""

    lower: int
    upper: int


@dataclass(frozen=True)
class Resolution:
    x: int
    y: int
    units: int = 3  # 3: dots per inch, 4: dots per centimetre


@dataclass(frozen=True)
class OutOfBand:
    """no-value, unknown, unsupported...: a value that says there is no value."""

    tag: int

    def __repr__(self) -> str:
        try:
            return f"OutOfBand({ValueTag(self.tag).name})"
        except ValueError:
            return f"OutOfBand(0x{self.tag:02x})"


NO_VALUE = OutOfBand(ValueTag.NO_VALUE)
UNKNOWN = OutOfBand(ValueTag.UNKNOWN)
UNSUPPORTED = OutOfBand(ValueTag.UNSUPPORTED)


@dataclass(frozen=True)
class RawValue:
    """A value of a tag this module does not know, or a dateTime that is not a date."""

    tag: int
    data: bytes


class LanguageString(str):
    """textWithLanguage / nameWithLanguage: a str that also knows its language."""

    language: str

    def __new__(cls, text: str, language: str) -> LanguageString:
        value = super().__new__(cls, text)
        value.language = language
        return value


Collection: TypeAlias = "dict[str, list[Value]]"
Value: TypeAlias = (
    "bool | int | str | bytes | datetime | Range | Resolution | OutOfBand | RawValue | Collection"
)
Group: TypeAlias = "dict[str, list[Value]]"


@dataclass(frozen=True)
class Attribute:
    """One attribute to encode. A collection's values are sequences of member Attributes."""

    name: str
    tag: ValueTag
    values: tuple[EncodableValue, ...]


EncodableValue: TypeAlias = (
    "bool | int | str | bytes | datetime | Range | Resolution | OutOfBand | RawValue"
    " | Sequence[Attribute]"
)


def attr(name: str, tag: ValueTag, *values: EncodableValue) -> Attribute:
    """``attr("sides", ValueTag.KEYWORD, "one-sided")``; several values make a 1setOf."""
    if not values:
        raise IppError(f"attribute {name!r} needs at least one value")
    return Attribute(name, tag, values)


@dataclass
class Message:
    """A decoded request or response."""

    version: tuple[int, int]
    code: int  # operation-id of a request, status-code of a response
    request_id: int
    groups: list[tuple[int, Group]] = field(default_factory=list)
    data: bytes = b""

    @property
    def status(self) -> int:
        return self.code

    @property
    def status_name(self) -> str:
        return status_name(self.code)

    @property
    def ok(self) -> bool:
        """successful-ok and its variants (0x0000-0x00FF)."""
        return self.code < 0x0100

    def all(self, tag: int) -> list[Group]:
        """Every group of one kind: CUPS-Get-Printers answers one printer group a printer."""
        return [group for group_tag, group in self.groups if group_tag == tag]

    def first(self, tag: int) -> Group:
        """The first group of one kind, or an empty one."""
        found = self.all(tag)
        return found[0] if found else {}

    def value(self, name: str, tag: int | None = None) -> Value | None:
        """The first value of ``name`` in the first group (of kind ``tag``) that has it."""
        for group_tag, group in self.groups:
            if (tag is None or group_tag == tag) and group.get(name):
                return group[name][0]
        return None

    @property
    def status_message(self) -> str:
        message = self.value("status-message", GroupTag.OPERATION)
        return message if isinstance(message, str) else ""


# Encoding


def request(
    operation: int,
    request_id: int,
    operation_attributes: Iterable[Attribute] = (),
    job_attributes: Iterable[Attribute] = (),
    data: bytes = b"",
    *,
    natural_language: str = "en",
) -> bytes:
    """A request body. attributes-charset and -natural-language come first, as required."""
    first = [
        attr("attributes-charset", ValueTag.CHARSET, "utf-8"),
        attr("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, natural_language),
    ]
    groups: list[tuple[int, Sequence[Attribute]]] = [
        (GroupTag.OPERATION, [*first, *operation_attributes])
    ]
    job = list(job_attributes)
    if job:
        groups.append((GroupTag.JOB, job))
    return encode(operation, request_id, groups, data)


def encode(
    code: int,
    request_id: int,
    groups: Iterable[tuple[int, Sequence[Attribute]]],
    data: bytes = b"",
    version: tuple[int, int] = VERSION,
) -> bytes:
    """Any message: a request (``code`` is the operation) or a response (the status)."""
    if not (0 <= code <= 0xFFFF and 0 <= request_id <= 0x7FFFFFFF):
        raise IppError(f"code {code} or request-id {request_id} out of range")
    out = bytearray(struct.pack(">BBHI", version[0], version[1], code, request_id))
    for tag, attributes in groups:
        if not 0x01 <= tag <= 0x0F or tag == GroupTag.END:
            raise IppError(f"0x{tag:02x} is not a group tag")
        out.append(tag)
        for attribute in attributes:
            _encode_attribute(out, attribute)
    out.append(GroupTag.END)
    out += data
    return bytes(out)


def _encode_attribute(out: bytearray, attribute: Attribute) -> None:
    if not attribute.name:
        raise IppError("an attribute needs a name")
    if not attribute.values:
        raise IppError(f"attribute {attribute.name!r} needs at least one value")
    for index, value in enumerate(attribute.values):
        _encode_one(out, attribute.tag, attribute.name if index == 0 else "", value, attribute)


def _encode_one(
    out: bytearray, tag: ValueTag, name: str, value: EncodableValue, attribute: Attribute
) -> None:
    if tag == ValueTag.BEG_COLLECTION:
        if not isinstance(value, (list, tuple)):
            raise IppError(f"{attribute.name}: a collection value is a list of Attributes")
        _put(out, tag, name, b"")
        for member in value:
            if not isinstance(member, Attribute):
                raise IppError(f"{attribute.name}: a collection member must be an Attribute")
            _put(out, ValueTag.MEMBER_ATTR_NAME, "", member.name.encode())
            for member_value in member.values:
                _encode_one(out, member.tag, "", member_value, member)
        _put(out, ValueTag.END_COLLECTION, "", b"")
        return
    _put(out, tag, name, _encode_value(tag, value, attribute.name))


def _put(out: bytearray, tag: int, name: str, value: bytes) -> None:
    encoded_name = name.encode()
    if len(encoded_name) > 0xFFFF or len(value) > 0xFFFF:
        raise IppError(f"attribute {name!r}: name or value longer than 65535 bytes")
    out.append(tag)
    out += struct.pack(">H", len(encoded_name)) + encoded_name
    out += struct.pack(">H", len(value)) + value


def _encode_value(tag: ValueTag, value: EncodableValue, name: str) -> bytes:  # noqa: PLR0911
    if isinstance(value, OutOfBand):
        return b""
    if isinstance(value, RawValue):
        return value.data
    try:
        if tag == ValueTag.BOOLEAN and isinstance(value, bool):
            return b"\x01" if value else b"\x00"
        if tag in {ValueTag.INTEGER, ValueTag.ENUM} and _is_int(value):
            return struct.pack(">i", value)
        if tag == ValueTag.RANGE_OF_INTEGER and isinstance(value, Range):
            return struct.pack(">ii", value.lower, value.upper)
        if tag == ValueTag.RESOLUTION and isinstance(value, Resolution):
            return struct.pack(">iib", value.x, value.y, value.units)
        if tag == ValueTag.DATETIME and isinstance(value, datetime):
            return _encode_datetime(value)
        if tag == ValueTag.OCTET_STRING and isinstance(value, bytes):
            return value
        if tag in {ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE} and isinstance(
            value, LanguageString
        ):
            language, text = value.language.encode(), str(value).encode()
            return struct.pack(">H", len(language)) + language + struct.pack(">H", len(text)) + text
        if tag >= 0x40 and isinstance(value, str):
            return value.encode()
    except struct.error as exc:
        raise IppError(f"{name}: {value!r} does not fit a {tag.name}: {exc}") from None
    raise IppError(f"{name}: {value!r} is not a {tag.name} value")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _encode_datetime(value: datetime) -> bytes:
    """RFC 2579 DateAndTime; a naive datetime is taken as UTC."""
    offset = value.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = b"-" if minutes < 0 else b"+"
    hours, minutes = divmod(abs(minutes), 60)
    return struct.pack(
        ">HBBBBBB",
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 100_000,
    ) + struct.pack(">cBB", sign, hours, minutes)


# Decoding


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise IppError(
                f"truncated IPP message: {what} needs {count} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def short(self, what: str) -> int:
        number: int = struct.unpack(">H", self.take(2, what))[0]
        return number

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]


def parse(data: bytes) -> Message:
    """A whole message; what follows end-of-attributes is its ``data``."""
    reader = _Reader(data)
    major, minor, code, request_id = struct.unpack(">BBHI", reader.take(8, "the header"))
    message = Message((major, minor), code, request_id)
    group: Group | None = None
    current: list[Value] | None = None  # the values of the last attribute, for 1setOf
    while True:
        tag = reader.byte("a tag (no end-of-attributes tag)")
        if tag == GroupTag.END:
            break
        if tag < 0x10:
            if tag == 0x00:
                raise IppError(f"reserved delimiter tag 0x00 at offset {reader.pos - 1}")
            group, current = {}, None
            message.groups.append((tag, group))
            continue
        if group is None:
            raise IppError(f"attribute before any attribute group at offset {reader.pos - 1}")
        name, value = _read_attribute(reader, tag, depth=0)
        if name:
            # A name repeated in one group is not valid IPP; the later one wins, as in a dict.
            current = group[name] = [value]
        elif current is None:
            raise IppError(f"additional value without an attribute at offset {reader.pos}")
        else:
            current.append(value)
    message.data = data[reader.pos :]
    return message


def _read_attribute(reader: _Reader, tag: int, depth: int) -> tuple[str, Value]:
    name = _text(reader.take(reader.short("a name length"), "a name"))
    raw = reader.take(reader.short("a value length"), f"the value of {name or 'a 1setOf'!r}")
    if tag == ValueTag.BEG_COLLECTION:
        return name, _read_collection(reader, depth + 1)
    if tag in {ValueTag.END_COLLECTION, ValueTag.MEMBER_ATTR_NAME}:
        raise IppError(f"0x{tag:02x} outside a collection at offset {reader.pos}")
    return name, _decode_value(tag, raw, name)


def _read_collection(reader: _Reader, depth: int) -> Collection:
    if depth > MAX_COLLECTION_DEPTH:
        raise IppError(f"collections nested deeper than {MAX_COLLECTION_DEPTH}")
    collection: Collection = {}
    member: list[Value] | None = None
    while True:
        tag = reader.byte("a tag (unterminated collection)")
        if tag < 0x10:
            raise IppError(f"unterminated collection at offset {reader.pos - 1}")
        if tag == ValueTag.END_COLLECTION:
            reader.take(reader.short("a name length"), "a name")
            reader.take(reader.short("a value length"), "endCollection")
            return collection
        if tag == ValueTag.MEMBER_ATTR_NAME:
            reader.take(reader.short("a name length"), "a name")
            member_name = _text(reader.take(reader.short("a value length"), "a member name"))
            if not member_name:
                raise IppError(f"empty member name at offset {reader.pos}")
            member = collection[member_name] = []
            continue
        if member is None:
            raise IppError(f"collection value without a member name at offset {reader.pos}")
        _, value = _read_attribute(reader, tag, depth)
        member.append(value)


_FIXED_LENGTHS: dict[int, int] = {
    ValueTag.INTEGER: 4,
    ValueTag.ENUM: 4,
    ValueTag.BOOLEAN: 1,
    ValueTag.RANGE_OF_INTEGER: 8,
    ValueTag.RESOLUTION: 9,
    ValueTag.DATETIME: 11,
}


def _decode_value(tag: int, raw: bytes, name: str) -> Value:  # noqa: PLR0911
    if 0x10 <= tag <= 0x1F:
        return OutOfBand(tag)
    if tag in _FIXED_LENGTHS and len(raw) != _FIXED_LENGTHS[tag]:
        raise IppError(f"{name}: a {ValueTag(tag).name} value of {len(raw)} bytes")
    if tag in {ValueTag.INTEGER, ValueTag.ENUM}:
        number: int = struct.unpack(">i", raw)[0]
        return number
    if tag == ValueTag.BOOLEAN:
        return raw != b"\x00"
    if tag == ValueTag.RANGE_OF_INTEGER:
        return Range(*struct.unpack(">ii", raw))
    if tag == ValueTag.RESOLUTION:
        return Resolution(*struct.unpack(">iib", raw))
    if tag == ValueTag.DATETIME:
        return _decode_datetime(raw)
    if tag in {ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE}:
        return _decode_with_language(raw, name)
    if tag == ValueTag.OCTET_STRING:
        return raw
    if 0x41 <= tag <= 0x49:
        return _text(raw)
    return RawValue(tag, raw)


def _decode_datetime(raw: bytes) -> datetime | RawValue:
    year, month, day, hour, minute, second, decis, sign, hours, minutes = struct.unpack(
        ">HBBBBBBcBB", raw
    )
    if sign not in {b"+", b"-"}:
        return RawValue(ValueTag.DATETIME, raw)
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == b"-" else 1)
    try:
        return datetime(
            year, month, day, hour, minute, second, decis * 100_000, tzinfo=timezone(offset)
        )
    except ValueError:  # month 13, a leap second, an offset of a day...: keep the bytes
        return RawValue(ValueTag.DATETIME, raw)


def _decode_with_language(raw: bytes, name: str) -> LanguageString:
    reader = _Reader(raw)
    try:
        language = _text(reader.take(reader.short("a language length"), "a language"))
        text = _text(reader.take(reader.short("a text length"), "a text"))
    except IppError as exc:
        raise IppError(f"{name}: malformed value with language: {exc}") from None
    if reader.pos != len(raw):
        raise IppError(f"{name}: {len(raw) - reader.pos} stray bytes in a value with language")
    return LanguageString(text, language)


def _text(raw: bytes) -> str:
    # We ask for utf-8; a printer that answers otherwise still gets its message read.
    return raw.decode("utf-8", errors="replace")
