"""One IPP request as the operations see it, and what they answer: a status, the
attributes refused, and the groups of the answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol import ipp
from printcloud.protocol.ipp import Attribute, GroupTag, Message, Value
from printcloud.server.ipp.access import Target
from printcloud.server.ipp.book import JobBook
from printcloud.server.settings import Settings

OK = 0x0000
OK_IGNORED = 0x0001
BAD_REQUEST = 0x0400
NOT_AUTHORIZED = 0x0403
NOT_POSSIBLE = 0x0404
NOT_FOUND = 0x0406
TOO_LARGE = 0x0408
FORMAT_NOT_SUPPORTED = 0x040A
ATTRIBUTES_NOT_SUPPORTED = 0x040B
CHARSET_NOT_SUPPORTED = 0x040D
COMPRESSION_NOT_SUPPORTED = 0x040F
FORMAT_ERROR = 0x0411
OPERATION_NOT_SUPPORTED = 0x0501
VERSION_NOT_SUPPORTED = 0x0503
MULTIPLE_DOCUMENTS_NOT_SUPPORTED = 0x0509


class Refusal(Exception):
    """An IPP error status, with the attributes that caused it."""

    def __init__(self, status: int, message: str, unsupported: Sequence[Attribute] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.unsupported = list(unsupported)


@dataclass
class Answer:
    status: int = OK
    message: str = ""
    unsupported: list[Attribute] = field(default_factory=list)
    groups: list[tuple[int, list[Attribute]]] = field(default_factory=list)


@dataclass(frozen=True)
class Call:
    """One request to one printer, and what serving it needs."""

    session: AsyncSession
    settings: Settings
    book: JobBook
    target: Target
    printer_uri: str
    secure: bool
    more_info: str
    now: datetime
    tick: float  # monotonic seconds, for the book
    request: Message = field(repr=False)

    @property
    def operation(self) -> ipp.Group:
        return self.request.groups[0][1]

    def job_group(self) -> ipp.Group:
        found = self.request.all(GroupTag.JOB)
        return found[0] if found else {}


def one(group: ipp.Group, name: str) -> Value | None:
    values = group.get(name)
    return values[0] if values and len(values) == 1 else None


def requested(group: ipp.Group) -> set[str] | None:
    values = group.get("requested-attributes")
    if values is None:
        return None
    return {v for v in values if isinstance(v, str)}
