"""The job service driven directly, on the real databases: what it stores, what it
announces, and how a state report meets another connection, instance or sweep that
moved or deleted the job in the meantime."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from printcloud.protocol.content import ContentType
from printcloud.protocol.job_states import JobState
from printcloud.server import effects
from printcloud.server.db.engine import create_sessionmaker
from printcloud.server.db.models import Computer, Event, Printer, PrintJob, PrintJobContent
from printcloud.server.db.types import utcnow
from printcloud.server.db.uow import unit_of_work
from printcloud.server.errors import BadRequest, NotFound, PayloadTooLarge
from printcloud.server.jobs import repository, service
from printcloud.server.jobs.repository import JobRow
from printcloud.server.jobs.schemas import JobPrinterOut, PrintJobIn, PrintJobOut
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers.accounts import TestAccount
from tests.helpers.documents import PDF, PDF_B64
from tests.helpers.effects import RecordingSink

COMPUTER_REMOVED = "The computer was removed from the account"
NOT_DELIVERED = "Not delivered before its expiry"


def job_in(printer_id: str, **fields: Any) -> PrintJobIn:
    return PrintJobIn.model_validate(
        {"printerId": printer_id, "contentType": "pdf_base64", "content": PDF_B64, **fields}
    )


async def submit(
    runtime: Runtime, account: TestAccount, printer_id: str, key: str | None = None, **fields: Any
) -> str:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await service.submit_job(
            session, runtime.settings, account.account_id, job_in(printer_id, **fields), key
        )


async def read_job(session: AsyncSession, job_id: str) -> PrintJob:
    job = await session.scalar(select(PrintJob).where(PrintJob.id == job_id))
    assert job is not None
    return job


async def stored(runtime: Runtime, job_id: str) -> PrintJob:
    async with runtime.sessionmaker() as session:
        return await read_job(session, job_id)


async def move(runtime: Runtime, job_id: str, state: JobState, message: str = "") -> bool:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await service.move_job(session, await read_job(session, job_id), state, message)


async def history(runtime: Runtime, account: TestAccount, job_id: str) -> list[tuple[Any, ...]]:
    async with runtime.sessionmaker() as session:
        entries = await service.states(session, account.account_id, job_id)
    return [(e.state.value, e.message, e.created_at) for e in entries]


async def events_of(runtime: Runtime, account: TestAccount) -> list[dict[str, Any]]:
    """The account's outbox, oldest first, without the events' own timestamps."""
    async with runtime.sessionmaker() as session:
        events = await session.scalars(
            select(Event).where(Event.account_id == account.account_id).order_by(Event.seq)
        )
        payloads = [dict(e.payload) for e in events]
    for payload in payloads:
        assert payload.pop("timestamp")
    return payloads


async def count_jobs(runtime: Runtime, account: TestAccount) -> int:
    async with runtime.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(PrintJob.account_id == account.account_id)
        )
    assert count is not None
    return count


def logged(logs: Sequence[Mapping[str, Any]], event: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in entry.items() if k not in ("event", "log_level")}
        for entry in logs
        if entry["event"] == event
    ]


class Clock:
    """The service's ``utcnow``, told the time by the test."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(service, "utcnow", clock)
    return clock


@pytest.fixture
async def computer_id(runtime: Runtime, printer_id: str) -> str:
    async with runtime.sessionmaker() as session:
        found = await session.scalar(select(Printer.computer_id).where(Printer.id == printer_id))
    assert found is not None
    return found


# Accepting a job


async def test_a_job_is_stored_with_its_printer_computer_document_and_first_history_entry(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str, clock: Clock
) -> None:
    job_id = await submit(
        runtime,
        account,
        printer_id,
        title="  Invoice #456 ",
        qty=3,
        options={"copies": 2, "duplex": "long-edge"},
        expireAfter=60,
    )

    job = await stored(runtime, job_id)
    assert job.id.startswith("pj_")
    assert (job.account_id, job.printer_id, job.computer_id, job.printer_name) == (
        account.account_id,
        printer_id,
        computer_id,
        "HP LaserJet Pro",
    )
    assert (job.title, job.content_type, job.qty, job.options, job.state) == (
        "Invoice #456",
        "pdf_base64",
        3,
        {"copies": 2, "duplex": "long-edge"},
        "pending",
    )
    assert (job.created_at, job.updated_at) == (clock.now, clock.now)
    assert job.expires_at == clock.now + timedelta(seconds=60)
    async with runtime.sessionmaker() as session:
        content = await session.scalar(
            select(PrintJobContent.content).where(PrintJobContent.job_seq == job.seq)
        )
    assert content == PDF_B64
    assert await history(runtime, account, job_id) == [("pending", "Job created", clock.now)]


async def test_a_job_without_expire_after_never_expires(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    job = await stored(runtime, await submit(runtime, account, printer_id))
    assert job.expires_at is None
    assert (job.title, job.qty, job.options) == ("Untitled", 1, {})


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
async def test_a_blank_title_becomes_untitled(
    runtime: Runtime, account: TestAccount, printer_id: str, title: str
) -> None:
    job = await stored(runtime, await submit(runtime, account, printer_id, title=title))
    assert job.title == "Untitled"


async def test_a_document_url_is_stored_trimmed_and_base64_as_it_came(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    url_job = await submit(
        runtime,
        account,
        printer_id,
        contentType="pdf_uri",
        content="  https://example.com/invoice.pdf \n",
    )
    wrapped = "\n".join(PDF_B64[i : i + 20] for i in range(0, len(PDF_B64), 20)) + "\n"
    base64_job = await submit(runtime, account, printer_id, content=wrapped)

    async with runtime.sessionmaker() as session:
        contents = {
            job_id: await session.scalar(
                select(PrintJobContent.content)
                .join(PrintJob, PrintJob.seq == PrintJobContent.job_seq)
                .where(PrintJob.id == job_id)
            )
            for job_id in (url_job, base64_job)
        }
    assert contents == {url_job: "https://example.com/invoice.pdf", base64_job: wrapped}


async def test_a_job_for_another_accounts_printer_is_not_found(
    runtime: Runtime, account: TestAccount, other_account: TestAccount
) -> None:
    computer = await other_account.add_computer(runtime)
    async with runtime.sessionmaker() as session:
        theirs = await session.scalar(select(Printer.id).where(Printer.computer_id == computer.id))
    assert theirs is not None

    with pytest.raises(NotFound, match=f"^Printer {theirs} not found$"):
        await submit(runtime, account, theirs)
    assert await count_jobs(runtime, account) == 0


async def test_a_created_job_is_announced_and_logged_with_its_ids(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    with capture_logs() as logs:
        job_id = await submit(runtime, account, printer_id, contentType="raw_base64")

    assert await events_of(runtime, account) == [
        {"type": "job.created", "jobId": job_id, "state": "pending", "printerId": printer_id}
    ]
    assert logged(logs, "job_created") == [
        {
            "account_id": account.account_id,
            "job_id": job_id,
            "printer_id": printer_id,
            "content_type": "raw_base64",
        }
    ]


async def test_the_jobs_computer_is_woken_once_the_job_is_committed(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str
) -> None:
    sink = RecordingSink()
    sessionmaker = create_sessionmaker(runtime.engine)
    effects.bind(sessionmaker, sink)

    async with unit_of_work(sessionmaker) as session:
        await service.submit_job(session, runtime.settings, account.account_id, job_in(printer_id))
        assert sink.calls == []  # nothing is announced before the commit

    assert sink.calls == [("wake", [computer_id])]


# Checking a document


async def test_check_job_answers_the_body_with_the_content_to_store(
    runtime: Runtime, printer_id: str
) -> None:
    body = job_in(printer_id, contentType="raw_uri", content=" http://example.com/label.zpl ")

    checked = await service.check_job(runtime.settings, body)

    assert checked.body is body
    assert checked.content == "http://example.com/label.zpl"


async def test_a_checked_job_comes_only_from_check_job(printer_id: str) -> None:
    with pytest.raises(TypeError, match=r"^a CheckedJob comes from check_job\(\)$"):
        service.CheckedJob(job_in(printer_id), PDF_B64, object())


async def test_check_job_follows_the_settings_on_private_urls_and_document_size(
    settings_factory: Callable[..., Settings], printer_id: str
) -> None:
    private = job_in(printer_id, contentType="pdf_uri", content="http://127.0.0.1:9000/a.pdf")
    with pytest.raises(BadRequest, match=r"^content: "):
        await service.check_job(settings_factory(), private)
    allowed = await service.check_job(settings_factory(allow_private_urls=True), private)
    assert allowed.content == "http://127.0.0.1:9000/a.pdf"

    big = job_in(printer_id, content=base64.b64encode(PDF + b"x" * 200).decode())
    with pytest.raises(PayloadTooLarge, match=r"^content: "):
        await service.check_job(settings_factory(max_document_size=100), big)
    assert (await service.check_job(settings_factory(max_document_size=1000), big)).content


async def test_a_document_too_large_to_check_on_the_event_loop_is_checked_all_the_same(
    runtime: Runtime, printer_id: str
) -> None:
    big = base64.b64encode(PDF + b"%" + b"x" * 300_000).decode()
    assert (
        await service.check_job(runtime.settings, job_in(printer_id, content=big))
    ).content == big

    broken = base64.b64encode(b"not a pdf" + b"x" * 300_000).decode()
    with pytest.raises(BadRequest, match=r"^content: the decoded data is not a PDF"):
        await service.check_job(runtime.settings, job_in(printer_id, content=broken))


# submit_job and the Idempotency-Key


async def test_without_an_idempotency_key_each_submission_is_a_new_job(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = await submit(runtime, account, printer_id)
    second = await submit(runtime, account, printer_id)

    assert first != second
    assert {(await stored(runtime, j)).id for j in (first, second)} == {first, second}


async def test_the_same_idempotency_key_answers_the_first_jobs_id_and_makes_no_other(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    first = await submit(runtime, account, printer_id, key="order-1")
    again = await submit(runtime, account, printer_id, key="order-1")
    other = await submit(runtime, account, printer_id, key="order-2")

    assert again == first
    assert other != first
    assert first.startswith("pj_")
    assert await count_jobs(runtime, account) == 2


async def test_a_malformed_idempotency_key_is_refused_before_a_job_is_made(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Idempotency-Key: "):
        await submit(runtime, account, printer_id, key="two words")
    assert await count_jobs(runtime, account) == 0


# Moving a job


async def read_as(
    kind: str, session: AsyncSession, account: TestAccount, computer_id: str, job_id: str
) -> PrintJob | JobRow:
    """The job as the API path reads it (an ORM object) or as the agent path does."""
    if kind == "orm":
        return await read_job(session, job_id)
    row = await repository.job_of_computer(session, account.account_id, computer_id, job_id)
    assert row is not None
    return row


@pytest.mark.parametrize("kind", ["orm", "row"])
async def test_each_move_records_its_time_in_the_job_and_in_its_history(
    runtime: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    clock: Clock,
    kind: str,
) -> None:
    created = clock.now
    job_id = await submit(runtime, account, printer_id)
    moves = [
        (JobState.SENT, "Sent to Office-PC", clock.advance(1)),
        (JobState.PRINTING, "Printing", clock.advance(2)),
        (JobState.COMPLETED, "Printed to HP LaserJet Pro", clock.advance(3)),
    ]

    for state, message, at in moves:
        clock.now = at
        async with unit_of_work(runtime.sessionmaker) as session:
            job = await read_as(kind, session, account, computer_id, job_id)
            assert await service.move_job(session, job, state, message) is True
            # The object is in step with the row, without a second UPDATE to send.
            assert (job.state, job.updated_at) == (state.value, at)
            assert not session.dirty

    job = await stored(runtime, job_id)
    assert (job.state, job.created_at, job.updated_at) == ("completed", created, moves[-1][2])
    assert await history(runtime, account, job_id) == [
        ("pending", "Job created", created),
        *[(state.value, message, at) for state, message, at in moves],
    ]


def measured() -> dict[str, float]:
    """The jobs' operator metrics now (this test process's registry): compared before
    and after, since every test of the process counts in it."""
    names = {
        "created": ("printcloud_jobs_created_total", {"content_type": "pdf_base64"}),
        "created_raw": ("printcloud_jobs_created_total", {"content_type": "raw_base64"}),
        **{
            state.value: ("printcloud_job_states_total", {"state": state.value})
            for state in JobState
        },
        "dispatched": ("printcloud_job_dispatch_seconds_count", {}),
        "dispatch_time": ("printcloud_job_dispatch_seconds_sum", {}),
        "completed_count": ("printcloud_job_completion_seconds_count", {"state": "completed"}),
        "completed_time": ("printcloud_job_completion_seconds_sum", {"state": "completed"}),
        "error_count": ("printcloud_job_completion_seconds_count", {"state": "error"}),
    }
    return {key: REGISTRY.get_sample_value(n, labels) or 0.0 for key, (n, labels) in names.items()}


def moved(before: dict[str, float]) -> dict[str, float]:
    """What moved since ``before``, rounded to the millisecond."""
    return {k: round(v - before[k], 3) for k, v in measured().items() if v != before[k]}


@pytest.mark.parametrize("kind", ["orm", "row"])
async def test_jobs_and_their_moves_are_measured_once_committed(
    runtime: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    clock: Clock,
    kind: str,
) -> None:
    before = measured()
    job_id = await submit(runtime, account, printer_id)
    other_id = await submit(runtime, account, printer_id)
    assert moved(before) == {"created": 2, "pending": 2}

    before = measured()
    for state, seconds in ((JobState.SENT, 1.5), (JobState.PRINTING, 2), (JobState.COMPLETED, 3)):
        clock.advance(seconds)
        step = measured()
        async with unit_of_work(runtime.sessionmaker) as session:
            job = await read_as(kind, session, account, computer_id, job_id)
            assert await service.move_job(session, job, state, "")
            assert moved(step) == {}, "counted before the commit"
    # Sent 1.5 s after its POST, completed 6.5 s after it.
    assert moved(before) == {
        "sent": 1,
        "printing": 1,
        "completed": 1,
        "dispatched": 1,
        "dispatch_time": 1.5,
        "completed_count": 1,
        "completed_time": 6.5,
    }

    before = measured()
    assert not await move(runtime, job_id, JobState.ERROR, "late")  # no move, no count

    async def rolled_back() -> None:
        async with unit_of_work(runtime.sessionmaker) as session:
            job = await read_as(kind, session, account, computer_id, other_id)
            assert await service.move_job(session, job, JobState.ERROR, "")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):  # nor a move rolled back
        await rolled_back()
    assert moved(before) == {}
    assert (await stored(runtime, other_id)).state == "pending"


async def test_a_move_is_announced_and_logged_with_its_state_and_message(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    job_id = await submit(runtime, account, printer_id)

    with capture_logs() as logs:
        assert await move(runtime, job_id, JobState.ERROR, "Paper jam") is True

    assert (await events_of(runtime, account))[1:] == [
        {"type": "job.state", "jobId": job_id, "state": "error", "message": "Paper jam"}
    ]
    assert logged(logs, "job_state") == [
        {"account_id": account.account_id, "job_id": job_id, "state": "error"}
    ]


@pytest.mark.parametrize(
    ("current", "reported", "message"),
    [
        (JobState.COMPLETED, JobState.PRINTING, "second"),  # a late report
        (JobState.PRINTING, JobState.PRINTING, "first"),  # a repeat, nothing new to say
        (JobState.PRINTING, JobState.SENT, "second"),  # backwards, however worded
        (JobState.SENT, JobState.EXPIRED, "second"),  # a sent job may have been printed
    ],
)
async def test_a_move_the_table_forbids_changes_nothing(
    runtime: Runtime,
    account: TestAccount,
    printer_id: str,
    clock: Clock,
    current: JobState,
    reported: JobState,
    message: str,
) -> None:
    job_id = await submit(runtime, account, printer_id)
    assert await move(runtime, job_id, current, "first")
    before = (await history(runtime, account, job_id), await events_of(runtime, account))
    clock.advance(5)

    assert await move(runtime, job_id, reported, message) is False

    job = await stored(runtime, job_id)
    assert (job.state, job.updated_at) == (current.value, clock.now - timedelta(seconds=5))
    assert (await history(runtime, account, job_id), await events_of(runtime, account)) == before


async def test_printing_reported_again_with_news_is_added_to_the_history_once(
    runtime: Runtime, account: TestAccount, printer_id: str, clock: Clock
) -> None:
    job_id = await submit(runtime, account, printer_id)
    assert await move(runtime, job_id, JobState.PRINTING, "Printing on HP")
    clock.advance(5)
    waiting = "Waiting: the printer is out of paper (media-empty)"

    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_job(session, job_id)
        with capture_logs() as logs:
            assert await service.move_job(session, job, JobState.PRINTING, waiting) is True
        assert (job.state, job.updated_at) == ("printing", clock.now)  # kept in step
    assert logged(logs, "job_state_news") == [
        {"account_id": account.account_id, "job_id": job_id, "state": "printing"}
    ]
    assert await move(runtime, job_id, JobState.PRINTING, waiting) is False  # no news
    assert await move(runtime, job_id, JobState.PRINTING, "") is False

    assert [(s, m) for s, m, _ in await history(runtime, account, job_id)] == [
        ("pending", "Job created"),
        ("printing", "Printing on HP"),
        ("printing", waiting),
    ]
    assert (await stored(runtime, job_id)).updated_at == clock.now
    assert (await events_of(runtime, account))[-1] == {
        "type": "job.state",
        "jobId": job_id,
        "state": "printing",
        "message": waiting,
    }
    assert await move(runtime, job_id, JobState.COMPLETED, "Printed") is True
    assert await move(runtime, job_id, JobState.PRINTING, "late news") is False


# A report racing another connection, instance or sweep


REAL_SET_STATE = repository.set_state


class Interleaving:
    """``repository.set_state`` with another instance's write run just before the first
    compare-and-set, and every compare-and-set as (old, new, whether it moved the job)."""

    def __init__(self, other_write: Callable[[], Awaitable[object]]) -> None:
        self._other_write: Callable[[], Awaitable[object]] | None = other_write
        self.compare_and_sets: list[tuple[str, str, bool]] = []

    async def set_state(
        self, session: AsyncSession, job: PrintJob | JobRow, old: str, new: str, now: datetime
    ) -> bool:
        other_write, self._other_write = self._other_write, None
        if other_write is not None:
            await other_write()
        moved = await REAL_SET_STATE(session, job, old, new, now)
        self.compare_and_sets.append((old, new, moved))
        return moved


def interleave(
    monkeypatch: pytest.MonkeyPatch, other_write: Callable[[], Awaitable[object]]
) -> Interleaving:
    interleaving = Interleaving(other_write)
    monkeypatch.setattr(repository, "set_state", interleaving.set_state)
    return interleaving


@pytest.fixture
def other_instance(runtime: Runtime, runtime_factory: Callable[..., Runtime]) -> Runtime:
    """A second server on the same database, with connections of its own."""
    return runtime_factory()


@pytest.mark.parametrize("kind", ["orm", "row"])
async def test_a_report_racing_another_move_is_applied_to_the_state_the_database_holds(
    runtime: Runtime,
    other_instance: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    job_id = await submit(runtime, account, printer_id)
    race = interleave(
        monkeypatch, lambda: move(other_instance, job_id, JobState.SENT, "Sent to Office-PC")
    )

    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_as(kind, session, account, computer_id, job_id)
        assert job.state == "pending"
        assert await service.move_job(session, job, JobState.PRINTING, "Printing") is True
        assert job.state == "printing"

    assert race.compare_and_sets == [
        ("pending", "sent", True),  # the other instance's
        ("pending", "printing", False),  # ours, on what we had read: refused
        ("sent", "printing", True),  # ours again, on what the database holds
    ]
    assert (await stored(runtime, job_id)).state == "printing"
    assert [(s, m) for s, m, _ in await history(runtime, account, job_id)] == [
        ("pending", "Job created"),
        ("sent", "Sent to Office-PC"),
        ("printing", "Printing"),
    ]
    assert [(e["type"], e["state"]) for e in await events_of(runtime, account)] == [
        ("job.created", "pending"),
        ("job.state", "sent"),
        ("job.state", "printing"),
    ]


@pytest.mark.parametrize("kind", ["orm", "row"])
async def test_a_report_made_obsolete_by_a_racing_move_changes_nothing(
    runtime: Runtime,
    other_instance: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    job_id = await submit(runtime, account, printer_id)
    race = interleave(
        monkeypatch, lambda: move(other_instance, job_id, JobState.COMPLETED, "Printed")
    )

    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_as(kind, session, account, computer_id, job_id)
        assert await service.move_job(session, job, JobState.PRINTING, "Printing") is False
        assert job.state == "completed"  # what the database holds, read again

    assert race.compare_and_sets == [("pending", "completed", True), ("pending", "printing", False)]
    assert (await stored(runtime, job_id)).state == "completed"
    assert [s for s, _, _ in await history(runtime, account, job_id)] == ["pending", "completed"]
    assert [e["state"] for e in await events_of(runtime, account)] == ["pending", "completed"]


async def test_a_report_on_a_job_deleted_meanwhile_changes_nothing(
    runtime: Runtime,
    other_instance: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = await submit(runtime, account, printer_id)

    async def delete_it() -> None:
        async with unit_of_work(other_instance.sessionmaker) as session:
            assert await service.delete_jobs(session, account.account_id, [job_id]) == [job_id]

    race = interleave(monkeypatch, delete_it)

    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_as("row", session, account, computer_id, job_id)
        assert await service.move_job(session, job, JobState.COMPLETED, "Printed") is False

    assert race.compare_and_sets == [("pending", "completed", False)]
    assert await count_jobs(runtime, account) == 0
    assert [e["type"] for e in await events_of(runtime, account)] == ["job.created"]


async def test_the_expiry_sweep_racing_a_delivery_leaves_the_job_sent(
    runtime: Runtime,
    other_instance: Runtime,
    account: TestAccount,
    printer_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = await submit(runtime, account, printer_id, expireAfter=60)
    race = interleave(
        monkeypatch, lambda: move(other_instance, job_id, JobState.SENT, "Sent to Office-PC")
    )

    async with unit_of_work(runtime.sessionmaker) as session:
        assert await service.expire_due(session, utcnow() + timedelta(seconds=61)) == 0

    assert race.compare_and_sets == [("pending", "sent", True), ("pending", "expired", False)]
    assert (await stored(runtime, job_id)).state == "sent"


# The sweeps: expiry, and the jobs of removed computers


async def test_expire_due_expires_only_jobs_still_waiting_past_their_expiry_and_counts_them(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    due = [await submit(runtime, account, printer_id, expireAfter=60) for _ in range(2)]
    later = await submit(runtime, account, printer_id, expireAfter=3600)
    never = await submit(runtime, account, printer_id)
    sent = await submit(runtime, account, printer_id, expireAfter=60)
    assert await move(runtime, sent, JobState.SENT, "Sent to Office-PC")

    async with unit_of_work(runtime.sessionmaker) as session:
        assert await service.expire_due(session, utcnow() + timedelta(seconds=61)) == 2

    states = {
        job_id: (await stored(runtime, job_id)).state for job_id in [*due, later, never, sent]
    }
    assert states == {
        due[0]: "expired",
        due[1]: "expired",
        later: "pending",
        never: "pending",
        sent: "sent",
    }
    assert (await history(runtime, account, due[0]))[-1][:2] == ("expired", NOT_DELIVERED)
    async with unit_of_work(runtime.sessionmaker) as session:
        assert await service.expire_due(session, utcnow() + timedelta(seconds=61)) == 0


async def test_expire_due_expires_a_batch_at_a_time_oldest_first(
    runtime: Runtime, account: TestAccount, printer_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "EXPIRE_BATCH", 2)
    due = [await submit(runtime, account, printer_id, expireAfter=60) for _ in range(3)]
    after_expiry = utcnow() + timedelta(seconds=61)

    passes: list[object] = []
    for _ in range(3):
        async with unit_of_work(runtime.sessionmaker) as session:
            passes.append(await service.expire_due(session, after_expiry))
        passes.append([(await stored(runtime, job_id)).state for job_id in due])

    assert passes == [
        2,
        ["expired", "expired", "pending"],
        1,
        ["expired", "expired", "expired"],
        0,
        ["expired", "expired", "expired"],
    ]


async def test_the_unfinished_jobs_of_removed_computers_end_in_error(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str
) -> None:
    other_computer = await account.add_computer(runtime, "Warehouse-PC", ("Zebra ZD420",))
    async with runtime.sessionmaker() as session:
        zebra = await session.scalar(
            select(Printer.id).where(Printer.computer_id == other_computer.id)
        )
    assert zebra is not None
    waiting = await submit(runtime, account, printer_id)
    printing = await submit(runtime, account, printer_id)
    assert await move(runtime, printing, JobState.PRINTING, "Printing")
    done = await submit(runtime, account, printer_id)
    assert await move(runtime, done, JobState.COMPLETED, "Printed")
    elsewhere = await submit(runtime, account, zebra)

    async with unit_of_work(runtime.sessionmaker) as session:
        await service.fail_unfinished_jobs_of_computers(
            session, account.account_id, [computer_id], COMPUTER_REMOVED
        )

    states = {j: (await stored(runtime, j)).state for j in (waiting, printing, done, elsewhere)}
    assert states == {waiting: "error", printing: "error", done: "completed", elsewhere: "pending"}
    for job_id in (waiting, printing):
        assert (await history(runtime, account, job_id))[-1][:2] == ("error", COMPUTER_REMOVED)


# History, look-ups and deletion


async def test_a_job_is_shown_with_every_field(
    runtime: Runtime, account: TestAccount, printer_id: str, clock: Clock
) -> None:
    created = clock.now
    job_id = await submit(
        runtime,
        account,
        printer_id,
        title="Label",
        contentType="raw_uri",
        content="https://example.com/label.zpl",
        qty=2,
        options={"copies": 3, "paper": "A4"},
        expireAfter=600,
    )
    clock.advance(7)
    assert await move(runtime, job_id, JobState.SENT, "Sent to Office-PC")

    async with runtime.sessionmaker() as session:
        shown = await service.history(
            session, account.account_id, limit=10, descending=True, after=None
        )

    assert shown == [
        PrintJobOut(
            id=job_id,
            title="Label",
            state=JobState.SENT,
            content_type=ContentType.RAW_URI,
            printer=JobPrinterOut(id=printer_id, name="HP LaserJet Pro"),
            printer_id=printer_id,
            qty=2,
            options={"copies": 3, "paper": "A4"},
            created_at=created,
            updated_at=clock.now,
            expires_at=created + timedelta(seconds=600),
        )
    ]


async def test_history_pages_on_after_in_both_directions(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    ids = [await submit(runtime, account, printer_id, title=f"Job {i}") for i in range(5)]

    async def page(limit: int, *, descending: bool, after: str | None) -> list[str]:
        async with runtime.sessionmaker() as session:
            jobs = await service.history(
                session, account.account_id, limit=limit, descending=descending, after=after
            )
        return [j.id for j in jobs]

    assert await page(2, descending=True, after=None) == [ids[4], ids[3]]
    assert await page(2, descending=True, after=ids[3]) == [ids[2], ids[1]]
    assert await page(10, descending=True, after=ids[1]) == [ids[0]]
    assert await page(1, descending=False, after=None) == [ids[0]]
    assert await page(10, descending=False, after=ids[1]) == [ids[2], ids[3], ids[4]]
    assert await page(10, descending=False, after=ids[4]) == []
    with pytest.raises(BadRequest, match=r"^after: no print job pj_unknown in this account$"):
        await page(10, descending=True, after="pj_unknown")


async def test_jobs_by_ids_answers_those_found_and_names_the_ids_when_none_is(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    ids = [await submit(runtime, account, printer_id) for _ in range(3)]

    async with runtime.sessionmaker() as session:
        found = await service.jobs_by_ids(session, account.account_id, [ids[2], "pj_x", ids[0]])
        assert sorted(j.id for j in found) == sorted([ids[0], ids[2]])
        with pytest.raises(NotFound, match=r"^No print job found with the id pj_x, pj_y$"):
            await service.jobs_by_ids(session, account.account_id, ["pj_x", "pj_y"])


async def test_the_states_of_an_unknown_job_are_not_found(
    runtime: Runtime, account: TestAccount
) -> None:
    async with runtime.sessionmaker() as session:
        with pytest.raises(NotFound, match=r"^Print job pj_missing not found$"):
            await service.states(session, account.account_id, "pj_missing")


async def test_delete_jobs_answers_only_the_found_ids_in_the_asked_order(
    runtime: Runtime, account: TestAccount, printer_id: str
) -> None:
    ids = [await submit(runtime, account, printer_id) for _ in range(3)]

    with capture_logs() as logs:
        async with unit_of_work(runtime.sessionmaker) as session:
            deleted = await service.delete_jobs(
                session, account.account_id, [ids[2], "pj_unknown", ids[0]]
            )

    assert deleted == [ids[2], ids[0]]
    async with runtime.sessionmaker() as session:
        left = await session.scalars(
            select(PrintJob.id).where(PrintJob.account_id == account.account_id)
        )
        assert list(left) == [ids[1]]
    assert logged(logs, "jobs_deleted") == [
        {"account_id": account.account_id, "job_ids": sorted([ids[0], ids[2]])}
    ]
    async with unit_of_work(runtime.sessionmaker) as session:
        with pytest.raises(NotFound, match=f"^No print job found with the id {ids[0]}$"):
            await service.delete_jobs(session, account.account_id, [ids[0]])


async def test_news_of_a_job_that_ended_meanwhile_is_not_recorded(
    runtime: Runtime,
    other_instance: Runtime,
    account: TestAccount,
    printer_id: str,
    computer_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = await submit(runtime, account, printer_id)
    assert await move(runtime, job_id, JobState.PRINTING, "Printing")
    race = interleave(
        monkeypatch, lambda: move(other_instance, job_id, JobState.COMPLETED, "Printed")
    )

    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_as("row", session, account, computer_id, job_id)
        assert await service.move_job(session, job, JobState.PRINTING, "Out of paper") is False

    assert race.compare_and_sets == [
        ("printing", "completed", True),  # the other instance's
        ("printing", "printing", False),  # the news, on a job that is no longer printing
    ]
    assert [(s, m) for s, m, _ in await history(runtime, account, job_id)] == [
        ("pending", "Job created"),
        ("printing", "Printing"),
        ("completed", "Printed"),
    ]


# Jobs whose connection ended before their outcome (at most once without resume)


async def sent_on(runtime: Runtime, job_id: str, connection_id: str, *, resumable: bool) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        job = await read_job(session, job_id)
        assert await service.move_job(session, job, JobState.SENT, "Sent")
        await repository.mark_sent_on(session, [job.seq], connection_id, resumable=resumable)


async def test_jobs_written_to_a_connection_that_ended_unreported_end_error(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str
) -> None:
    lost = await submit(runtime, account, printer_id)
    await sent_on(runtime, lost, "conn_gone", resumable=False)
    journaled = await submit(runtime, account, printer_id)
    await sent_on(runtime, journaled, "conn_gone", resumable=True)
    live = await submit(runtime, account, printer_id)
    await sent_on(runtime, live, "conn_live", resumable=False)
    waiting = await submit(runtime, account, printer_id)

    async with unit_of_work(runtime.sessionmaker) as session:
        failed = await service.fail_unreported(session, computer_id, live_connection_id="conn_live")
    assert failed == 1
    states = {j: (await stored(runtime, j)).state for j in (lost, journaled, live, waiting)}
    assert states == {lost: "error", journaled: "sent", live: "sent", waiting: "pending"}
    assert (await history(runtime, account, lost))[-1][:2] == ("error", service.DISCONNECTED)
    assert (await events_of(runtime, account))[-1] == {
        "type": "job.state",
        "jobId": lost,
        "state": "error",
        "message": service.DISCONNECTED,
    }

    # A client without resume comes back: nothing could answer the journaled one either.
    async with unit_of_work(runtime.sessionmaker) as session:
        failed = await service.fail_unreported(
            session, computer_id, live_connection_id="conn_new", include_resumable=True
        )
    assert failed == 2
    assert (await stored(runtime, journaled)).state == "error"
    assert (await stored(runtime, live)).state == "error"


async def test_the_sweep_ends_jobs_whose_connection_died_with_its_instance(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str
) -> None:
    async with runtime.sessionmaker() as session:
        computer = await session.get(Computer, computer_id)
        assert computer is not None
        computer.connection_id = "conn_live"
        await session.commit()
    orphaned = await submit(runtime, account, printer_id)
    await sent_on(runtime, orphaned, "conn_dead", resumable=False)
    current = await submit(runtime, account, printer_id)
    await sent_on(runtime, current, "conn_live", resumable=False)
    resumable = await submit(runtime, account, printer_id)
    await sent_on(runtime, resumable, "conn_dead", resumable=True)

    async with unit_of_work(runtime.sessionmaker) as session:
        assert await service.fail_orphaned(session) == 1
    assert (await stored(runtime, orphaned)).state == "error"
    assert (await stored(runtime, current)).state == "sent"
    assert (await stored(runtime, resumable)).state == "sent"  # its journal will answer


async def test_deleting_a_sent_job_asks_its_agent_to_cancel_it_after_the_commit(
    runtime: Runtime, account: TestAccount, printer_id: str, computer_id: str
) -> None:
    sent = await submit(runtime, account, printer_id)
    await sent_on(runtime, sent, "conn_1", resumable=True)
    waiting = await submit(runtime, account, printer_id)
    sink = RecordingSink()
    sessionmaker = create_sessionmaker(runtime.engine)
    effects.bind(sessionmaker, sink)

    async with unit_of_work(sessionmaker) as session:
        deleted = await service.delete_jobs(session, account.account_id, [waiting, sent])
        assert sink.calls == []
    assert deleted == [waiting, sent]
    assert sink.calls == [("cancelled", [computer_id, sent])]  # the waiting one: nothing to tell
