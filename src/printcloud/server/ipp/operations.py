"""The IPP printer's operations (RFC 8011) over our jobs service: Get-Printer-Attributes,
Validate-Job, Print-Job, Create-Job + Send-Document, Close-Job, Get-Jobs,
Get-Job-Attributes, Cancel-Job and Identify-Printer."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import ValidationError

from printcloud.protocol import ipp
from printcloud.protocol.content import ContentType, job_title
from printcloud.protocol.ipp import (
    UNSUPPORTED,
    Attribute,
    GroupTag,
    Operation,
    Range,
    Resolution,
    Value,
    ValueTag,
    attr,
)
from printcloud.protocol.job_states import FINAL_STATES, UNFINISHED_STATES
from printcloud.server.accounts.permissions import Action
from printcloud.server.errors import BadRequest, NotFound, PayloadTooLarge
from printcloud.server.ipp import job_template, printer, repository
from printcloud.server.ipp import jobs as job_words
from printcloud.server.ipp.call import (
    ATTRIBUTES_NOT_SUPPORTED,
    BAD_REQUEST,
    COMPRESSION_NOT_SUPPORTED,
    FORMAT_ERROR,
    FORMAT_NOT_SUPPORTED,
    MULTIPLE_DOCUMENTS_NOT_SUPPORTED,
    NOT_FOUND,
    NOT_POSSIBLE,
    OK,
    OK_IGNORED,
    TOO_LARGE,
    Answer,
    Call,
    Refusal,
    one,
    requested,
)
from printcloud.server.ipp.repository import PrinterView
from printcloud.server.jobs import repository as jobs_repository
from printcloud.server.jobs import service as jobs
from printcloud.server.jobs.schemas import PrintJobIn

MAX_LIST = 1000  # jobs in one Get-Jobs answer
NEEDS: dict[int, Action] = {
    Operation.GET_PRINTER_ATTRIBUTES: Action.READ,
    Operation.GET_JOBS: Action.READ,
    Operation.GET_JOB_ATTRIBUTES: Action.READ,
    Operation.PRINT_JOB: Action.PRINT,
    Operation.VALIDATE_JOB: Action.PRINT,
    Operation.CREATE_JOB: Action.PRINT,
    Operation.SEND_DOCUMENT: Action.PRINT,
    Operation.IDENTIFY_PRINTER: Action.PRINT,
    Operation.CLOSE_JOB: Action.PRINT,
    # As DELETE /api/printjobs: a job is cancelled by deleting it.
    Operation.CANCEL_JOB: Action.MANAGE,
}


async def _view(call: Call) -> PrinterView:
    view = await repository.printer_view(
        call.session, call.target.account_id, call.target.printer_id
    )
    if view is None:  # removed since the request was let in
        raise Refusal(NOT_FOUND, "The printer was removed")
    return view


# Printer operations


async def _get_printer_attributes(call: Call) -> Answer:
    view = await _view(call)
    where = printer.Where(call.printer_uri, call.secure, call.more_info)
    listed = printer.attributes(view, where, call.now)
    selected = printer.select(listed, requested(call.operation))
    return Answer(groups=[(GroupTag.PRINTER, selected)])


async def _identify_printer(call: Call) -> Answer:
    await _view(call)
    return Answer(message="A PrintCloud printer has no display or sound to identify it with")


# Making jobs


@dataclass(frozen=True)
class JobRequest:
    title: str
    options: dict[str, object]
    document_format: str
    ignored: list[Attribute]


def _read_job_request(call: Call, view: PrinterView) -> JobRequest:
    """The document format, compression and job template attributes of Print-Job,
    Validate-Job and Create-Job, checked against the printer."""
    operation = call.operation
    _check_document_attributes(operation)
    fidelity = one(operation, "ipp-attribute-fidelity") is True
    reading = job_template.read(call.job_group(), view.printer.capabilities)
    if reading.refused:
        raise Refusal(
            ATTRIBUTES_NOT_SUPPORTED,
            "Not supported by this printer: " + ", ".join(sorted(reading.refused)),
            [_echo(name, values) for name, values in reading.refused.items()],
        )
    ignored = [_echo(name, values) for name, values in reading.unknown.items()]
    if ignored and fidelity:
        raise Refusal(
            ATTRIBUTES_NOT_SUPPORTED,
            "Not supported: " + ", ".join(sorted(reading.unknown)),
            ignored,
        )
    try:
        options = job_template.to_options(reading).as_sent()
    except ValidationError as exc:  # pragma: no cover - each value was checked above
        raise Refusal(ATTRIBUTES_NOT_SUPPORTED, str(exc)) from None
    title = one(operation, "job-name") or one(operation, "document-name")
    return JobRequest(
        job_title(title[:255] if isinstance(title, str) else ""),
        options,
        _document_format(operation),
        ignored,
    )


def _check_document_attributes(operation: ipp.Group) -> None:
    compression = operation.get("compression")
    if compression is not None and compression != ["none"]:
        raise Refusal(
            COMPRESSION_NOT_SUPPORTED,
            "Only compression none is supported",
            [_echo("compression", compression)],
        )
    fmt = operation.get("document-format")
    if fmt is not None and (
        len(fmt) != 1
        or not isinstance(fmt[0], str)
        or fmt[0].lower() not in printer.DOCUMENT_FORMATS
    ):
        raise Refusal(
            FORMAT_NOT_SUPPORTED,
            "Only PDF documents are supported (application/pdf)",
            [_echo("document-format", fmt)],
        )


def _document_format(operation: ipp.Group) -> str:
    fmt = one(operation, "document-format")
    return fmt.lower() if isinstance(fmt, str) else printer.PDF


def _echo(name: str, values: list[Value]) -> Attribute:
    """An attribute refused, as it came when we can say it again, else ``unsupported``."""
    kinds = {type(v) for v in values}
    tag = (
        {
            bool: ValueTag.BOOLEAN,
            int: ValueTag.INTEGER,
            str: ValueTag.KEYWORD,
            Range: ValueTag.RANGE_OF_INTEGER,
            Resolution: ValueTag.RESOLUTION,
        }.get(kinds.pop())
        if len(kinds) == 1
        else None
    )
    if tag is None or (tag == ValueTag.KEYWORD and any(len(str(v)) > 255 for v in values)):
        return attr(name[:255], ValueTag.UNSUPPORTED, UNSUPPORTED)
    return attr(name[:255], tag, *values)  # type: ignore[arg-type]


def _ok(request: JobRequest) -> tuple[int, str]:
    if request.ignored:
        return OK_IGNORED, "Some attributes were ignored: see the unsupported attributes"
    return OK, ""


async def _validate_job(call: Call) -> Answer:
    view = await _view(call)
    request = _read_job_request(call, view)
    status, message = _ok(request)
    return Answer(status, message, request.ignored)


async def _print_job(call: Call) -> Answer:
    view = await _view(call)
    request = _read_job_request(call, view)
    if not call.request.data:
        raise Refusal(BAD_REQUEST, "Print-Job needs the document after the attributes")
    seq = await _submit(call, request.title, request.options, request.document_format)
    job = await repository.job(call.session, call.target.account_id, call.target.printer_id, seq)
    assert job is not None  # made in this transaction
    status, message = _ok(request)
    facts = job_words.of_job(job, seq, "Job created")
    return Answer(status, message, request.ignored, [(GroupTag.JOB, _job_summary(call, facts))])


async def _submit(call: Call, title: str, options: dict[str, object], fmt: str) -> int:
    """Our job, through the one path every edge prints through; its ``seq``."""
    data = call.request.data
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        if fmt == printer.OCTET_STREAM:
            raise Refusal(FORMAT_NOT_SUPPORTED, "The document is not a PDF: only PDF is printed")
        raise Refusal(FORMAT_ERROR, "The document is not a PDF")
    body = PrintJobIn.model_validate(
        {
            "printerId": call.target.printer_id,
            "contentType": ContentType.PDF_BASE64.value,
            "content": base64.b64encode(data).decode("ascii"),
            "title": title,
            "options": options,
        }
    )
    try:
        job_id = await jobs.submit_job(call.session, call.settings, call.target.account_id, body)
    except PayloadTooLarge as exc:
        raise Refusal(TOO_LARGE, exc.message) from None
    except NotFound as exc:
        raise Refusal(NOT_FOUND, exc.message) from None
    except BadRequest as exc:
        raise Refusal(FORMAT_ERROR, exc.message) from None
    seq = await jobs_repository.seq_of(call.session, call.target.account_id, job_id)
    assert seq is not None  # made in this transaction
    return seq


def _job_summary(call: Call, facts: job_words.JobFacts) -> list[Attribute]:
    wanted = {"job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"}
    return job_words.select(job_words.attributes(facts, call.printer_uri, call.now), wanted)


async def _create_job(call: Call) -> Answer:
    view = await _view(call)
    request = _read_job_request(call, view)
    created = call.book.create(
        account_id=call.target.account_id,
        printer_id=call.target.printer_id,
        title=request.title,
        options=request.options,
        document_format=request.document_format,
        created_at=call.now,
        now=call.tick,
    )
    status, message = _ok(request)
    facts = job_words.of_created(created)
    return Answer(status, message, request.ignored, [(GroupTag.JOB, _job_summary(call, facts))])


async def _send_document(call: Call) -> Answer:
    operation = call.operation
    number = _job_id(call)
    last = one(operation, "last-document")
    if not isinstance(last, bool):
        raise Refusal(BAD_REQUEST, "last-document (boolean) is required")
    _check_document_attributes(operation)
    target = call.target
    created = call.book.created(target.account_id, target.printer_id, number)
    if created is None or created.seq is not None:
        if created is not None or await _known(call, number):
            raise Refusal(NOT_POSSIBLE, f"Job {number} already has its document")
        raise Refusal(NOT_FOUND, f"Job {number} not found")
    if not last:
        raise Refusal(
            MULTIPLE_DOCUMENTS_NOT_SUPPORTED,
            "A job has one document: send it with last-document true",
        )
    if not call.request.data:
        raise Refusal(BAD_REQUEST, "Send-Document needs the document after the attributes")
    fmt = _document_format(operation) if "document-format" in operation else created.document_format
    seq = await _submit(call, created.title, created.options, fmt)
    call.book.sent(created, seq, call.tick)
    job = await repository.job(call.session, target.account_id, target.printer_id, seq)
    assert job is not None  # made in this transaction
    facts = job_words.of_job(job, created.number, "Job created")
    return Answer(groups=[(GroupTag.JOB, _job_summary(call, facts))])


# Reading and cancelling jobs


def _job_id(call: Call) -> int:
    """job-id (with printer-uri), or the number ending a job-uri."""
    number = one(call.operation, "job-id")
    if isinstance(number, int) and not isinstance(number, bool):
        if number < 1:
            raise Refusal(NOT_FOUND, f"Job {number} not found")
        return number
    uri = one(call.operation, "job-uri")
    if isinstance(uri, str):
        tail = uri.rstrip("/").rpartition("/")[2]
        if tail.isdigit() and len(tail) < 11:
            return int(tail)
        raise Refusal(NOT_FOUND, "No job at that job-uri")
    raise Refusal(BAD_REQUEST, "job-id (integer) is required")


async def _known(call: Call, number: int) -> bool:
    target = call.target
    seq = call.book.seq_of(target.account_id, target.printer_id, number)
    found = await repository.job(call.session, target.account_id, target.printer_id, seq)
    return found is not None


async def _facts(call: Call, number: int) -> tuple[job_words.JobFacts, str | None]:
    """The job, and our job's id when it is one of ours; client-error-not-found else."""
    target = call.target
    call.book.prune(call.tick)
    cancelled = call.book.cancelled(target.account_id, target.printer_id, number)
    if cancelled is not None:
        return job_words.of_cancelled(cancelled), None
    created = call.book.created(target.account_id, target.printer_id, number)
    if created is not None and created.seq is None:
        return job_words.of_created(created), None
    seq = call.book.seq_of(target.account_id, target.printer_id, number)
    job = await repository.job(call.session, target.account_id, target.printer_id, seq)
    if job is None:
        raise Refusal(NOT_FOUND, f"Job {number} not found")
    messages = await repository.last_messages(call.session, [job.seq])
    return job_words.of_job(job, number, messages.get(job.seq, "")), job.id


async def _get_job_attributes(call: Call) -> Answer:
    facts, _ = await _facts(call, _job_id(call))
    listed = job_words.attributes(facts, call.printer_uri, call.now)
    return Answer(groups=[(GroupTag.JOB, job_words.select(listed, requested(call.operation)))])


async def _get_jobs(call: Call) -> Answer:
    operation = call.operation
    if "job-ids" in operation:
        return await _get_listed_jobs(call, operation["job-ids"])
    which = operation.get("which-jobs", ["not-completed"])
    if len(which) != 1 or which[0] not in {"completed", "not-completed"}:
        raise Refusal(
            ATTRIBUTES_NOT_SUPPORTED,
            "which-jobs: completed or not-completed",
            [_echo("which-jobs", which)],
        )
    limit = operation.get("limit", [MAX_LIST])
    if (
        len(limit) != 1
        or not isinstance(limit[0], int)
        or isinstance(limit[0], bool)
        or limit[0] < 1
    ):
        raise Refusal(BAD_REQUEST, "limit must be one integer from 1")
    count = min(limit[0], MAX_LIST)
    target = call.target
    call.book.prune(call.tick)
    completed = which[0] == "completed"
    facts: list[job_words.JobFacts] = []
    if completed:
        facts += [
            job_words.of_cancelled(c)
            for c in call.book.all_cancelled(target.account_id, target.printer_id)
        ]
    else:
        facts += [
            job_words.of_created(c) for c in call.book.waiting(target.account_id, target.printer_id)
        ]
    states = FINAL_STATES if completed else UNFINISHED_STATES
    found = await repository.jobs(
        call.session,
        target.account_id,
        target.printer_id,
        [s.value for s in states],
        limit=count,
        newest_first=completed,
    )
    messages = await repository.last_messages(call.session, [j.seq for j in found])
    facts += [
        job_words.of_job(j, call.book.number_of(j.seq), messages.get(j.seq, "")) for j in found
    ]
    wanted = requested(operation) or set(job_words.DEFAULT_ATTRIBUTES)
    groups: list[tuple[int, list[Attribute]]] = [
        (
            GroupTag.JOB,
            job_words.select(job_words.attributes(f, call.printer_uri, call.now), wanted),
        )
        for f in facts[:count]
    ]
    return Answer(groups=groups)


async def _get_listed_jobs(call: Call, numbers: list[Value]) -> Answer:
    """Get-Jobs with job-ids (PWG 5100.11): those jobs, whatever their state."""
    if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise Refusal(BAD_REQUEST, "job-ids are integers")
    wanted = requested(call.operation) or set(job_words.DEFAULT_ATTRIBUTES)
    groups: list[tuple[int, list[Attribute]]] = []
    for number in numbers[:MAX_LIST]:
        assert isinstance(number, int)
        try:
            facts, _ = await _facts(call, number)
        except Refusal:
            continue
        listed = job_words.attributes(facts, call.printer_uri, call.now)
        groups.append((GroupTag.JOB, job_words.select(listed, wanted)))
    return Answer(groups=groups)


async def _cancel_job(call: Call) -> Answer:
    number = _job_id(call)
    facts, job_id = await _facts(call, number)
    if facts.state in job_words.FINISHED:
        raise Refusal(NOT_POSSIBLE, f"Job {number} is already {facts.state.name.lower()}")
    target = call.target
    if job_id is not None:
        await jobs.delete_jobs(call.session, target.account_id, [job_id])
    call.book.cancel(
        account_id=target.account_id,
        printer_id=target.printer_id,
        number=number,
        title=facts.title,
        created_at=facts.created_at,
        cancelled_at=call.now,
        now=call.tick,
    )
    return Answer()


async def _close_job(call: Call) -> Answer:
    """No more documents: a job made by Create-Job that never got one is dropped."""
    number = _job_id(call)
    target = call.target
    created = call.book.created(target.account_id, target.printer_id, number)
    if created is not None and created.seq is None:
        call.book.forget(number)
        return Answer(message="The job had no document and was dropped")
    await _facts(call, number)
    return Answer()


HANDLERS: dict[int, Callable[[Call], Awaitable[Answer]]] = {
    Operation.GET_PRINTER_ATTRIBUTES: _get_printer_attributes,
    Operation.IDENTIFY_PRINTER: _identify_printer,
    Operation.VALIDATE_JOB: _validate_job,
    Operation.PRINT_JOB: _print_job,
    Operation.CREATE_JOB: _create_job,
    Operation.SEND_DOCUMENT: _send_document,
    Operation.GET_JOB_ATTRIBUTES: _get_job_attributes,
    Operation.GET_JOBS: _get_jobs,
    Operation.CANCEL_JOB: _cancel_job,
    Operation.CLOSE_JOB: _close_job,
}
