"""Print jobs: accepting them, their history, and the one place that moves their state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import anyio.to_thread
import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from printcloud.protocol.content import ContentType, job_title
from printcloud.protocol.events import EventType
from printcloud.protocol.job_states import RESTATED, JobState, next_state
from printcloud.server import effects, ids, metrics
from printcloud.server.db.models import PrintJob
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, NotFound, PrintCloudError
from printcloud.server.events import repository as events
from printcloud.server.jobs import idempotency, repository
from printcloud.server.jobs.content import check_content
from printcloud.server.jobs.repository import JobRow
from printcloud.server.jobs.schemas import JobPrinterOut, JobStateOut, PrintJobIn, PrintJobOut
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

_DECODE_IN_THREAD = 256 * 1024  # characters of content
_CHECKED = object()
EXPIRE_BATCH = 500
WRITTEN_STATES = frozenset({JobState.SENT, JobState.PRINTING})
# API.md, "Features a client announces": the words of the at-most-once outcome.
DISCONNECTED = "the computer disconnected before reporting how this job ended; it may have printed"


def to_out(job: PrintJob) -> PrintJobOut:
    return PrintJobOut(
        id=job.id,
        title=job.title,
        state=JobState(job.state),
        content_type=ContentType(job.content_type),
        printer=JobPrinterOut(id=job.printer_id, name=job.printer_name),
        printer_id=job.printer_id,
        qty=job.qty,
        options=job.options,
        created_at=job.created_at,
        updated_at=job.updated_at,
        expires_at=job.expires_at,
    )


@dataclass(frozen=True)
class CheckedJob:
    """A job whose document passed :func:`check_job`: the only kind :func:`create_job`
    takes, so that no edge can store a document nobody checked."""

    body: PrintJobIn
    content: str  # as stored: a URI trimmed, base64 as it came
    proof: object = field(repr=False)

    def __post_init__(self) -> None:
        if self.proof is not _CHECKED:
            raise TypeError("a CheckedJob comes from check_job()")


async def check_job(settings: Settings, body: PrintJobIn) -> CheckedJob:
    """Refuse a bad document (BadRequest, PayloadTooLarge) before the job is made.

    Called before the request touches the database: decoding megabytes of base64
    runs in a thread, and a request holding a database connection meanwhile would
    hold up every other (SQLite has one).
    """
    check = partial(
        check_content,
        body.content_type,
        body.content,
        allow_private_urls=settings.allow_private_urls,
        max_document_size=settings.max_document_size,
    )
    if len(body.content) > _DECODE_IN_THREAD:
        # Decoding megabytes of base64 takes milliseconds of CPU: not on the event loop,
        # where every other request and agent socket of this process waits.
        content = await anyio.to_thread.run_sync(check)
    else:
        content = check()
    return CheckedJob(body, content, _CHECKED)


async def create_job(session: AsyncSession, account_id: str, checked: CheckedJob) -> str:
    """Accept a job as ``pending``, with its history entry and ``job.created`` event;
    its computer is woken once that is committed. Answers the job's id."""
    (created,) = await create_jobs(session, [(account_id, checked)])
    if isinstance(created, PrintCloudError):
        raise created
    return created


async def create_jobs(
    session: AsyncSession, requests: Sequence[tuple[str, CheckedJob]]
) -> list[str | PrintCloudError]:
    """:func:`create_job` for many jobs in one transaction (the intake's group commit),
    their rows written in a few statements for the whole batch. Each answer is the job's
    id, or the error that refused it (an unknown printer) before anything of it was
    written. The rows are plain values: an ORM object per job cost more than its INSERT.
    """
    answers: list[str | PrintCloudError] = []
    targets: dict[tuple[str, str], Row[Any, Any, Any] | None] = {}
    rows: list[dict[str, Any]] = []
    contents: list[str] = []
    now = utcnow()
    for account_id, checked in requests:
        body = checked.body
        if (account_id, body.printer_id) not in targets:
            targets[account_id, body.printer_id] = await repository.print_target(
                session, account_id, body.printer_id
            )
        printer = targets[account_id, body.printer_id]
        if printer is None:
            answers.append(NotFound(f"Printer {body.printer_id} not found"))
            continue
        row = repository.new_job_row(
            id=ids.job_id(),
            account_id=account_id,
            printer_id=printer.id,
            computer_id=printer.computer_id,
            printer_name=printer.name,
            title=job_title(body.title),
            content_type=body.content_type.value,
            qty=body.qty,
            options=body.options.as_sent(),
            state=JobState.PENDING.value,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=body.expire_after) if body.expire_after else None,
        )
        rows.append(row)
        contents.append(checked.content)
        answers.append(row["id"])
    if not rows:
        return answers
    await repository.add_many(session, rows, contents, "Job created")
    await events.record_many(
        session,
        [
            (
                row["account_id"],
                EventType.JOB_CREATED,
                {"jobId": row["id"], "state": row["state"], "printerId": row["printer_id"]},
            )
            for row in rows
        ],
    )
    for record, value in metrics.jobs_created([row["content_type"] for row in rows]):
        effects.measure(session, record, value)
    for row in rows:
        effects.wake_computer(session, row["computer_id"])
        log.info(
            "job_created",
            account_id=row["account_id"],
            job_id=row["id"],
            printer_id=row["printer_id"],
            content_type=row["content_type"],
        )
    return answers


async def submit_job(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    body: PrintJobIn,
    idempotency_key: str | None = None,
) -> str:
    """Print a job: check its document, accept it, and have its computer woken after
    the commit. The same ``idempotency_key`` within its window answers the first job's
    id instead of making another. Every edge that prints (the API, the dashboard's
    test page) comes through here."""
    job_id, _ = await submit_job_once(session, settings, account_id, body, idempotency_key)
    return job_id


async def submit_job_once(
    session: AsyncSession,
    settings: Settings,
    account_id: str,
    body: PrintJobIn,
    idempotency_key: str | None = None,
) -> tuple[str, bool]:
    """:func:`submit_job`, and whether the job is new: False when ``idempotency_key``
    answered an earlier job (an edge whose contract says so refuses the repeat)."""
    checked = await check_job(settings, body)

    async def create() -> str:
        return await create_job(session, account_id, checked)

    if idempotency_key is None:
        return await create(), True
    return await idempotency.once(
        session,
        account_id,
        idempotency.check_key(idempotency_key),
        idempotency.fingerprint(body.model_dump_json()),
        create,
    )


async def move_job(
    session: AsyncSession, job: PrintJob | JobRow, reported: JobState, message: str
) -> bool:
    """Apply a state report: the only code that assigns a job's state.

    Returns False, changing nothing, when the transition table does not allow it, but
    for a state reported again with a new message (``RESTATED``), which is recorded.
    """
    old_state = JobState(job.state)
    new_state = next_state(old_state, reported)
    if new_state is None:
        if reported == old_state and old_state in RESTATED:
            return await _restate(session, job, message)
        return False
    now = utcnow()
    if not await repository.set_state(session, job, old_state.value, new_state.value, now):
        # Moved meanwhile by another connection, instance or sweep: read it again.
        current = await repository.state_of(session, job.seq)
        if current is None:  # deleted meanwhile
            return False
        _keep(job, state=current)
        return await move_job(session, job, reported, message)
    _keep(job, state=new_state.value, updated_at=now)
    await _record_state(session, job, message)
    # Its age from the POST, perhaps timed by another instance of a cluster (their
    # clocks' difference is in the figure).
    for record, value in metrics.job_moved(new_state, (now - job.created_at).total_seconds()):
        effects.measure(session, record, value)
    log.info("job_state", account_id=job.account_id, job_id=job.id, state=job.state)
    return True


async def _restate(session: AsyncSession, job: PrintJob | JobRow, message: str) -> bool:
    """The same state reported with news (a printer out of paper, then printing again):
    a history entry and a ``job.state`` event with the new message, once per change."""
    if not message or message == await repository.last_message(session, job.seq):
        return False
    now = utcnow()
    # Compare-and-set on the state it has: a job moved on meanwhile takes no news.
    if not await repository.set_state(session, job, job.state, job.state, now):
        return False
    _keep(job, updated_at=now)
    await _record_state(session, job, message)
    log.info("job_state_news", account_id=job.account_id, job_id=job.id, state=job.state)
    return True


async def _record_state(session: AsyncSession, job: PrintJob | JobRow, message: str) -> None:
    """The job's state as it now is, with ``message``: its history entry and its
    ``job.state`` event (the webhooks' outbox), in the caller's transaction."""
    await repository.add_state_event(session, job, message)
    await events.record(
        session,
        job.account_id,
        EventType.JOB_STATE,
        jobId=job.id,
        state=job.state,
        message=message,
    )


def _keep(job: PrintJob | JobRow, **values: object) -> None:
    """Keep the job in step with what the database now holds, without a second UPDATE."""
    for name, value in values.items():
        if isinstance(job, PrintJob):
            set_committed_value(job, name, value)
        else:
            setattr(job, name, value)


async def fail_unreported(
    session: AsyncSession,
    computer_id: str,
    *,
    live_connection_id: str | None,
    include_resumable: bool = False,
) -> int:
    """Jobs written to a connection of the computer that is gone, their outcome never
    reported, end in ``error``: written once, never sent again (at most once). With
    ``include_resumable``, also those sent to a ``resume`` connection (the computer came
    back without it, so nothing would answer them from a journal)."""
    jobs = await repository.unreported(
        session,
        computer_id,
        live_connection_id=live_connection_id,
        include_resumable=include_resumable,
    )
    return await _fail_disconnected(session, jobs)


async def fail_orphaned(session: AsyncSession) -> int:
    """What :func:`fail_unreported` does when a connection ends, for connections that
    ended with their server instance (the sweep)."""
    return await _fail_disconnected(
        session, await repository.orphaned_unreported(session, EXPIRE_BATCH)
    )


async def _fail_disconnected(session: AsyncSession, jobs: Sequence[JobRow]) -> int:
    failed = 0
    for job in jobs:
        failed += await move_job(session, job, JobState.ERROR, DISCONNECTED)
    return failed


async def fail_unfinished_jobs_of_computers(
    session: AsyncSession, account_id: str, computer_ids: Sequence[str], message: str
) -> None:
    for job in await repository.unfinished_of_computers(session, account_id, computer_ids):
        await move_job(session, job, JobState.ERROR, message)


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Jobs still waiting past their expiry become ``expired``; how many did."""
    expired = 0
    for job in await repository.expired_pending(session, now, EXPIRE_BATCH):
        expired += await move_job(session, job, JobState.EXPIRED, "Not delivered before its expiry")
    return expired


async def history(
    session: AsyncSession, account_id: str, *, limit: int, descending: bool, after: str | None
) -> list[PrintJobOut]:
    after_seq = None
    if after is not None:
        after_seq = await repository.seq_of(session, account_id, after)
        if after_seq is None:
            raise BadRequest(f"after: no print job {after} in this account")
    jobs = await repository.history(
        session, account_id, limit=limit, descending=descending, after_seq=after_seq
    )
    return [to_out(j) for j in jobs]


async def jobs_by_ids(
    session: AsyncSession, account_id: str, job_ids: Sequence[str]
) -> Sequence[PrintJob]:
    jobs = await repository.by_ids(session, account_id, job_ids)
    if not jobs:
        raise NotFound(f"No print job found with the id {', '.join(job_ids)}")
    return jobs


async def states(session: AsyncSession, account_id: str, job_id: str) -> list[JobStateOut]:
    seq = await repository.seq_of(session, account_id, job_id)
    if seq is None:
        raise NotFound(f"Print job {job_id} not found")
    return [
        JobStateOut(state=JobState(e.state), message=e.message, created_at=e.created_at)
        for e in await repository.state_events(session, seq)
    ]


async def delete_jobs(session: AsyncSession, account_id: str, job_ids: Sequence[str]) -> list[str]:
    """Delete jobs; the agent of one already sent is told once that is committed (if it
    announced ``cancel``), and drops it or cancels it at the printer."""
    jobs = await jobs_by_ids(session, account_id, job_ids)
    await repository.delete_jobs(session, account_id, [j.seq for j in jobs])
    for job in jobs:
        if job.state in WRITTEN_STATES and job.computer_id is not None:
            effects.job_cancelled(session, job.computer_id, job.id)
    found = {j.id for j in jobs}
    log.info("jobs_deleted", account_id=account_id, job_ids=sorted(found))
    return [i for i in job_ids if i in found]
