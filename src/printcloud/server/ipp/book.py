"""What the IPP printer remembers in this process, beyond our jobs' rows:

- a job made by Create-Job waits here for its Send-Document (our jobs are made with
  their document), and keeps its number once it is one of ours;
- a job cancelled by Cancel-Job is deleted, as ``DELETE /api/printjobs`` does, and kept
  here a while so that the client that cancelled it sees it ``canceled``.

Per process: in a cluster, a client's Create-Job and Send-Document must reach the same
instance (docs/ipp.md). Bounded, and driven by the caller's clock.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

# Create-Job numbers count down from IPP's largest integer, away from our jobs' numbers
# (their ``seq``), which count up from 1.
FIRST_CREATED = 2**31 - 1
WAIT_FOR_DOCUMENT = 300.0  # seconds: multiple-operation-time-out
KEEP_CANCELLED = 3600.0
KEEP_AT_MOST = 10_000


@dataclass
class Created:
    account_id: str
    printer_id: str
    number: int
    title: str
    options: dict[str, object]
    document_format: str
    created_at: datetime
    deadline: float  # monotonic seconds
    seq: int | None = None  # our job's, once its document came


@dataclass(frozen=True)
class Cancelled:
    account_id: str
    printer_id: str
    number: int
    title: str
    created_at: datetime
    cancelled_at: datetime
    until: float


class JobBook:
    def __init__(self) -> None:
        self._numbers = itertools.count(FIRST_CREATED, -1)
        self._created: OrderedDict[int, Created] = OrderedDict()
        self._number_of_seq: dict[int, int] = {}
        self._cancelled: OrderedDict[int, Cancelled] = OrderedDict()

    def create(
        self,
        *,
        account_id: str,
        printer_id: str,
        title: str,
        options: dict[str, object],
        document_format: str,
        created_at: datetime,
        now: float,
    ) -> Created:
        self.prune(now)
        created = Created(
            account_id,
            printer_id,
            next(self._numbers),
            title,
            options,
            document_format,
            created_at,
            now + WAIT_FOR_DOCUMENT,
        )
        self._created[created.number] = created
        self._trim(self._created)
        return created

    def created(self, account_id: str, printer_id: str, number: int) -> Created | None:
        found = self._created.get(number)
        if found is None or (found.account_id, found.printer_id) != (account_id, printer_id):
            return None
        return found

    def sent(self, created: Created, seq: int, now: float) -> None:
        """Its document came and made our job ``seq``: known by both numbers from now."""
        created.seq = seq
        created.deadline = now + KEEP_CANCELLED
        self._number_of_seq[seq] = created.number

    def forget(self, number: int) -> None:
        created = self._created.pop(number, None)
        if created is not None and created.seq is not None:
            self._number_of_seq.pop(created.seq, None)

    def seq_of(self, account_id: str, printer_id: str, number: int) -> int:
        """Our job's ``seq`` for an IPP job-id: a Create-Job number once sent, else itself."""
        created = self.created(account_id, printer_id, number)
        return created.seq if created is not None and created.seq is not None else number

    def number_of(self, seq: int) -> int:
        return self._number_of_seq.get(seq, seq)

    def waiting(self, account_id: str, printer_id: str) -> list[Created]:
        return [
            c
            for c in self._created.values()
            if c.seq is None and (c.account_id, c.printer_id) == (account_id, printer_id)
        ]

    def cancel(
        self,
        *,
        account_id: str,
        printer_id: str,
        number: int,
        title: str,
        created_at: datetime,
        cancelled_at: datetime,
        now: float,
    ) -> None:
        self.forget(number)
        self._cancelled[number] = Cancelled(
            account_id, printer_id, number, title, created_at, cancelled_at, now + KEEP_CANCELLED
        )
        self._trim(self._cancelled)

    def cancelled(self, account_id: str, printer_id: str, number: int) -> Cancelled | None:
        found = self._cancelled.get(number)
        if found is None or (found.account_id, found.printer_id) != (account_id, printer_id):
            return None
        return found

    def all_cancelled(self, account_id: str, printer_id: str) -> list[Cancelled]:
        return [
            c
            for c in reversed(self._cancelled.values())
            if (c.account_id, c.printer_id) == (account_id, printer_id)
        ]

    def prune(self, now: float) -> None:
        """Forget a created job whose document never came, and old cancellations."""
        for number in [n for n, c in self._created.items() if c.deadline <= now]:
            self.forget(number)
        for number in [n for n, c in self._cancelled.items() if c.until <= now]:
            del self._cancelled[number]

    def _trim(self, entries: OrderedDict[int, Created] | OrderedDict[int, Cancelled]) -> None:
        while len(entries) > KEEP_AT_MOST:
            number, _ = entries.popitem(last=False)
            self._number_of_seq = {s: n for s, n in self._number_of_seq.items() if n != number}
