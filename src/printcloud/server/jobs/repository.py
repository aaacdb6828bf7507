"""Print jobs, their documents and their state history, always scoped by account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.protocol.content import ContentType
from printcloud.protocol.job_states import FINAL_STATES, UNFINISHED_STATES, JobState
from printcloud.protocol.presence import ComputerState
from printcloud.server.db.models import (
    Computer,
    JobStateEvent,
    Printer,
    PrintJob,
    PrintJobContent,
    table,
)
from printcloud.server.db.predicates import one_of


@dataclass
class JobRow:
    """A job as the agent path reads it: plain columns, no ORM object to build."""

    seq: int
    id: str
    account_id: str
    state: str
    updated_at: datetime
    created_at: datetime  # the POST: the operator's latency metrics start there
    printer_name: str = ""
    content_type: str = ""
    title: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    qty: int = 1


_ROW_COLUMNS = ("seq", "id", "account_id", "state", "updated_at", "created_at")
_PAYLOAD_COLUMNS = ("printer_name", "content_type", "title", "options", "qty")


# The writes of the job path are statements built once, on the tables: a flush of new
# ORM objects, or an insert built per call, costs several times the INSERT it sends.
_INSERT_JOBS = insert(table(PrintJob)).returning(
    table(PrintJob).c.seq, sort_by_parameter_order=True
)
# Every column but ``seq``, each given (None for "not set"): the rows of one executemany
# must name the same columns.
_JOB_KEYS = tuple(c.key for c in table(PrintJob).columns if c.key != "seq")
_INSERT_CONTENT = insert(table(PrintJobContent))
_INSERT_STATE_EVENT = insert(table(JobStateEvent))
_JOBS = table(PrintJob).c
_SET_STATE = (
    update(table(PrintJob))
    .where(_JOBS.seq == bindparam("job_seq"), _JOBS.state == bindparam("old_state"))
    .values(state=bindparam("new_state"), updated_at=bindparam("now"))
)


_PRINTERS = table(Printer).c
# Every print job looks its printer up (a printers row, read here: the job's own
# question, asked on every POST): built once, read as a plain row.
_PRINT_TARGET = select(_PRINTERS.id, _PRINTERS.computer_id, _PRINTERS.name).where(
    _PRINTERS.account_id == bindparam("account_id"), _PRINTERS.id == bindparam("printer_id")
)


async def print_target(
    session: AsyncSession, account_id: str, printer_id: str
) -> Row[Any, Any, Any] | None:
    """The printer's ``id``, ``computer_id`` and ``name``, if it is in the account."""
    params = {"account_id": account_id, "printer_id": printer_id}
    return (await session.execute(_PRINT_TARGET, params)).first()


def new_job_row(**values: Any) -> dict[str, Any]:
    """The columns of a new job for :func:`add_many`; those not given are None."""
    row = dict.fromkeys(_JOB_KEYS)
    row.update(values)
    return row


async def add_many(
    session: AsyncSession, rows: Sequence[dict[str, Any]], contents: Sequence[str], message: str
) -> list[int]:
    """Insert new jobs (:func:`new_job_row`) with their documents and first history
    entries, ``message``; answers their ``seq``s. Three statements for the whole batch
    (executemany; the RETURNING of a batch comes back in parameter order)."""
    seqs = list((await session.execute(_INSERT_JOBS, rows)).scalars())
    await session.execute(
        _INSERT_CONTENT,
        [{"job_seq": seq, "content": content} for seq, content in zip(seqs, contents, strict=True)],
    )
    await session.execute(
        _INSERT_STATE_EVENT,
        [
            {
                "job_seq": seq,
                "state": row["state"],
                "message": message,
                "created_at": row["created_at"],
            }
            for seq, row in zip(seqs, rows, strict=True)
        ],
    )
    return seqs


async def last_message(session: AsyncSession, job_seq: int) -> str | None:
    result: str | None = await session.scalar(
        select(JobStateEvent.message)
        .where(JobStateEvent.job_seq == job_seq)
        .order_by(JobStateEvent.seq.desc())
        .limit(1)
    )
    return result


async def add_state_event(session: AsyncSession, job: PrintJob | JobRow, message: str) -> None:
    await _add_event(session, job.seq, job.state, message, job.updated_at)


async def _add_event(
    session: AsyncSession, job_seq: int, state: str, message: str, at: datetime
) -> None:
    await session.execute(
        _INSERT_STATE_EVENT,
        {"job_seq": job_seq, "state": state, "message": message, "created_at": at},
    )


async def seq_of(session: AsyncSession, account_id: str, job_id: str) -> int | None:
    return await session.scalar(
        select(PrintJob.seq).where(PrintJob.account_id == account_id, PrintJob.id == job_id)
    )


async def history(
    session: AsyncSession, account_id: str, *, limit: int, descending: bool, after_seq: int | None
) -> Sequence[PrintJob]:
    query = select(PrintJob).where(PrintJob.account_id == account_id)
    if after_seq is not None:
        query = query.where(PrintJob.seq < after_seq if descending else PrintJob.seq > after_seq)
    order = PrintJob.seq.desc() if descending else PrintJob.seq.asc()
    result = await session.scalars(query.order_by(order).limit(limit))
    return result.all()


async def by_ids(session: AsyncSession, account_id: str, ids: Sequence[str]) -> Sequence[PrintJob]:
    result = await session.scalars(
        select(PrintJob)
        .where(PrintJob.account_id == account_id, PrintJob.id.in_(ids))
        .order_by(PrintJob.seq)
    )
    return result.all()


async def state_events(session: AsyncSession, job_seq: int) -> Sequence[JobStateEvent]:
    result = await session.scalars(
        select(JobStateEvent).where(JobStateEvent.job_seq == job_seq).order_by(JobStateEvent.seq)
    )
    return result.all()


async def unfinished_of_computers(
    session: AsyncSession, account_id: str, computer_ids: Sequence[str]
) -> Sequence[PrintJob]:
    result = await session.scalars(
        select(PrintJob)
        .where(
            PrintJob.account_id == account_id,
            PrintJob.computer_id.in_(computer_ids),
            ~one_of(PrintJob.state, FINAL_STATES),
        )
        .order_by(PrintJob.seq)
    )
    return result.all()


async def delete_jobs(session: AsyncSession, account_id: str, seqs: Sequence[int]) -> None:
    # Its document and state history go with it: ON DELETE CASCADE.
    await session.execute(
        delete(PrintJob).where(PrintJob.account_id == account_id, PrintJob.seq.in_(seqs))
    )


async def set_state(
    session: AsyncSession, job: PrintJob | JobRow, old: str, new: str, now: datetime
) -> bool:
    """Compare-and-set: move the job from ``old`` to ``new`` unless someone else moved it."""
    params = {"job_seq": job.seq, "old_state": old, "new_state": new, "now": now}
    result = await session.execute(_SET_STATE, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


_WRITTEN = (JobState.SENT, JobState.PRINTING)
_BASE64_TYPES = tuple(t.value for t in ContentType if not t.is_uri)
_URI_TYPES = tuple(t.value for t in ContentType if t.is_uri)


def _waiting(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return and_(
        PrintJob.state == JobState.PENDING,
        or_(PrintJob.expires_at.is_(None), PrintJob.expires_at > now),
    )


def _resendable(connection_id: str | SQLColumnExpression[str | None]) -> ColumnElement[bool]:
    """Written to an earlier connection that announced ``resume`` (or before modes existed),
    and never reported: sent again, the agent's journal answering one it finished."""
    return and_(
        one_of(PrintJob.state, _WRITTEN),
        PrintJob.sent_resumable.is_not(False),
        or_(PrintJob.sent_connection_id.is_(None), PrintJob.sent_connection_id != connection_id),
    )


@dataclass(frozen=True)
class Mode:
    """What a connection announced that changes what it is sent."""

    resume: bool  # jobs written to an earlier connection and never reported are sent again
    fetch: bool  # ``*_uri`` jobs go as URIs; otherwise only once the server downloaded them


def _deliverable_query(mode: Mode) -> Select[Any]:
    contents = table(PrintJobContent).c
    now: BindParameter[datetime] = bindparam("b_now")
    wanted = (
        or_(_waiting(now), _resendable(bindparam("b_connection_id")))
        if mode.resume
        else _waiting(now)
    )
    query = (
        select(*_DELIVERY_COLUMNS, contents.content, contents.fetched)
        .join(PrintJobContent, PrintJobContent.job_seq == _JOBS.seq)
        .where(
            _JOBS.account_id == bindparam("b_account_id"),
            _JOBS.computer_id == bindparam("b_computer_id"),
            wanted,
        )
    )
    if not mode.fetch:
        query = query.where(
            or_(one_of(_JOBS.content_type, _BASE64_TYPES), contents.fetched.is_not(None))
        )
    return query.order_by(_JOBS.seq).limit(bindparam("b_limit"))


_DELIVERY_COLUMNS = [_JOBS[name] for name in (*_ROW_COLUMNS, *_PAYLOAD_COLUMNS)]
# Every job sent runs these: built once (one per connection mode), as the job path's
# other statements are; built per call, constructing them cost more than running them.
_DELIVERABLE = {
    Mode(resume, fetch): _deliverable_query(Mode(resume, fetch))
    for resume in (False, True)
    for fetch in (False, True)
}
_AWAITING_DOWNLOAD = (
    select(_JOBS.seq)
    .join(PrintJobContent, PrintJobContent.job_seq == _JOBS.seq)
    .where(
        _JOBS.account_id == bindparam("b_account_id"),
        _JOBS.computer_id == bindparam("b_computer_id"),
        one_of(_JOBS.content_type, _URI_TYPES),
        table(PrintJobContent).c.fetched.is_(None),
        _waiting(bindparam("b_now")),
    )
    .order_by(_JOBS.seq)
    .limit(bindparam("b_limit"))
)
_MARK_SENT_ON = (
    update(table(PrintJob))
    .where(_JOBS.seq.in_(bindparam("b_seqs", expanding=True)))
    .values(
        sent_connection_id=bindparam("b_connection_id"), sent_resumable=bindparam("b_resumable")
    )
)


async def deliverable(
    session: AsyncSession,
    *,
    account_id: str,
    computer_id: str,
    connection_id: str,
    mode: Mode,
    now: datetime,
    limit: int,
) -> list[tuple[JobRow, str, str | None]]:
    """The jobs to send on ``connection_id``, oldest first, with their documents: as
    given, and as the server downloaded it (None if it did not)."""
    params: dict[str, Any] = {
        "b_account_id": account_id,
        "b_computer_id": computer_id,
        "b_now": now,
        "b_limit": limit,
    }
    if mode.resume:
        params["b_connection_id"] = connection_id
    result = await session.execute(_DELIVERABLE[mode], params)
    return [(JobRow(*row[:-2]), row[-2], row[-1]) for row in result.all()]


async def awaiting_download(
    session: AsyncSession, *, account_id: str, computer_id: str, now: datetime, limit: int
) -> list[int]:
    """Waiting ``*_uri`` jobs of the computer that the server has not downloaded yet."""
    params = {
        "b_account_id": account_id,
        "b_computer_id": computer_id,
        "b_now": now,
        "b_limit": limit,
    }
    return list((await session.execute(_AWAITING_DOWNLOAD, params)).scalars())


async def document_to_download(session: AsyncSession, seq: int) -> tuple[JobRow, str] | None:
    """A waiting ``*_uri`` job and its URI, unless it moved on or was downloaded meanwhile."""
    row = (
        await session.execute(
            select(
                *(_JOBS[name] for name in (*_ROW_COLUMNS, *_PAYLOAD_COLUMNS)),
                PrintJobContent.content,
            )
            .join(PrintJobContent, PrintJobContent.job_seq == _JOBS.seq)
            .where(
                _JOBS.seq == seq,
                _JOBS.state == JobState.PENDING,
                one_of(_JOBS.content_type, _URI_TYPES),
                PrintJobContent.fetched.is_(None),
            )
        )
    ).first()
    return None if row is None else (JobRow(*row[:-1]), row[-1])


async def computer_of(session: AsyncSession, seq: int) -> str | None:
    result: str | None = await session.scalar(
        select(PrintJob.computer_id).where(PrintJob.seq == seq)
    )
    return result


async def set_downloaded(session: AsyncSession, seq: int, document: str) -> None:
    await session.execute(
        update(PrintJobContent).where(PrintJobContent.job_seq == seq).values(fetched=document)
    )


async def mark_sent_on(
    session: AsyncSession, seqs: Sequence[int], connection_id: str, *, resumable: bool
) -> None:
    if not seqs:
        return
    await session.execute(
        _MARK_SENT_ON,
        {"b_seqs": list(seqs), "b_connection_id": connection_id, "b_resumable": resumable},
    )


async def unreported(
    session: AsyncSession,
    computer_id: str,
    *,
    live_connection_id: str | None,
    include_resumable: bool,
) -> list[JobRow]:
    """Jobs of the computer written to a connection other than ``live_connection_id`` whose
    outcome never came: those sent without ``resume`` (all of them with
    ``include_resumable``)."""
    query = select(*(_JOBS[name] for name in _ROW_COLUMNS)).where(
        _JOBS.computer_id == computer_id,
        one_of(_JOBS.state, _WRITTEN),
        _JOBS.sent_connection_id.is_not(None),
    )
    if live_connection_id is not None:
        query = query.where(_JOBS.sent_connection_id != live_connection_id)
    if not include_resumable:
        query = query.where(_JOBS.sent_resumable.is_(False))
    result = await session.execute(query.order_by(_JOBS.seq))
    return [JobRow(*row) for row in result.all()]


async def orphaned_unreported(session: AsyncSession, limit: int) -> list[JobRow]:
    """Jobs sent without ``resume`` on a connection that is no longer their computer's
    (a server instance died with it), their outcome never reported."""
    result = await session.execute(
        select(*(_JOBS[name] for name in _ROW_COLUMNS))
        .join(Computer, Computer.id == _JOBS.computer_id)
        .where(
            one_of(_JOBS.state, _WRITTEN),
            _JOBS.sent_resumable.is_(False),
            or_(
                Computer.connection_id.is_(None), Computer.connection_id != _JOBS.sent_connection_id
            ),
        )
        .order_by(_JOBS.seq)
        .limit(limit)
    )
    return [JobRow(*row) for row in result.all()]


async def computers_with_deliverable(
    session: AsyncSession, instance_id: str, now: datetime
) -> list[str]:
    """The computers connected to this instance that may have something to be sent (a
    hint: what each connection is sent depends on its mode)."""
    result = await session.scalars(
        select(PrintJob.computer_id)
        .distinct()
        .join(Computer, Computer.id == PrintJob.computer_id)
        .where(
            Computer.instance_id == instance_id,
            Computer.state == ComputerState.ONLINE,
            one_of(PrintJob.state, UNFINISHED_STATES),
            or_(_waiting(now), _resendable(Computer.connection_id)),
        )
    )
    return [c for c in result.all() if c is not None]


async def expired_pending(session: AsyncSession, now: datetime, limit: int) -> Sequence[PrintJob]:
    result = await session.scalars(
        select(PrintJob)
        .where(PrintJob.state == JobState.PENDING, PrintJob.expires_at <= now)
        .order_by(PrintJob.seq)
        .limit(limit)
    )
    return result.all()


_JOB_OF_COMPUTER = select(*(_JOBS[name] for name in _ROW_COLUMNS)).where(
    _JOBS.account_id == bindparam("b_account_id"),
    _JOBS.computer_id == bindparam("b_computer_id"),
    _JOBS.id == bindparam("b_job_id"),
)
_STATE_OF = select(_JOBS.state).where(_JOBS.seq == bindparam("b_seq"))


async def job_of_computer(
    session: AsyncSession, account_id: str, computer_id: str, job_id: str
) -> JobRow | None:
    """A job the computer may report on: its own, in its account (every state report)."""
    params = {"b_account_id": account_id, "b_computer_id": computer_id, "b_job_id": job_id}
    row = (await session.execute(_JOB_OF_COMPUTER, params)).first()
    return None if row is None else JobRow(*row)


async def state_of(session: AsyncSession, seq: int) -> str | None:
    return (await session.execute(_STATE_OF, {"b_seq": seq})).scalar_one_or_none()
