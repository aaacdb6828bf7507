"""What the IPP printer remembers in its process (``server/ipp/book.py``), driven by the
caller's clock: a created job waits for its document a while, a cancelled one is shown
an hour, both bounded, and each account sees only its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from printcloud.server.ipp import book as book_module
from printcloud.server.ipp.book import FIRST_CREATED, KEEP_CANCELLED, WAIT_FOR_DOCUMENT, JobBook

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def create(book: JobBook, now: float, account: str = "acc_a", printer: str = "prn_a") -> int:
    created = book.create(
        account_id=account,
        printer_id=printer,
        title="Report",
        options={},
        document_format="application/pdf",
        created_at=NOW,
        now=now,
    )
    return created.number


def test_created_jobs_count_down_from_ipps_largest_integer_and_are_the_accounts_own() -> None:
    book = JobBook()

    first, second = create(book, 0), create(book, 0)

    assert (first, second) == (FIRST_CREATED, FIRST_CREATED - 1)
    assert book.created("acc_a", "prn_a", first) is not None
    assert book.created("acc_b", "prn_a", first) is None
    assert book.created("acc_a", "prn_b", first) is None
    assert [c.number for c in book.waiting("acc_a", "prn_a")] == [first, second]


def test_a_created_job_waits_for_its_document_and_is_then_known_by_both_numbers() -> None:
    book = JobBook()
    dropped, sent = create(book, 0), create(book, 0)
    created = book.created("acc_a", "prn_a", sent)
    assert created is not None

    book.sent(created, seq=42, now=10)
    book.prune(WAIT_FOR_DOCUMENT + 1)

    assert book.created("acc_a", "prn_a", dropped) is None
    assert book.seq_of("acc_a", "prn_a", sent) == 42
    assert book.number_of(42) == sent
    assert book.seq_of("acc_a", "prn_a", 7) == 7  # any other number is our seq
    book.prune(10 + KEEP_CANCELLED)
    assert book.number_of(42) == 42


def test_a_cancelled_job_is_shown_an_hour() -> None:
    book = JobBook()
    book.cancel(
        account_id="acc_a",
        printer_id="prn_a",
        number=5,
        title="Invoice",
        created_at=NOW,
        cancelled_at=NOW,
        now=0,
    )

    assert book.cancelled("acc_a", "prn_a", 5) is not None
    assert book.cancelled("acc_b", "prn_a", 5) is None
    assert [c.number for c in book.all_cancelled("acc_a", "prn_a")] == [5]
    book.prune(KEEP_CANCELLED)
    assert book.cancelled("acc_a", "prn_a", 5) is None


def test_the_book_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(book_module, "KEEP_AT_MOST", 3)
    book = JobBook()

    numbers = [create(book, 0) for _ in range(5)]

    assert [c.number for c in book.waiting("acc_a", "prn_a")] == numbers[2:]
