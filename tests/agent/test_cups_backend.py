"""The CUPS backend against the real print rig: a private cupsd, an IPP Everywhere
emulator behind PDFQ and a raw socket sink behind ZPLQ. No mocks.

Every test prints under a title of its own and finds its job by that name, so the
tests do not depend on what else the rig printed. They wait with deadlines, not
fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.agent.printers.cups import (
    CupsBackend,
    CupsServer,
    CupsUnavailable,
    Progress,
    job_attributes,
    locate_server,
    parse_server,
)
from printcloud.protocol import ipp
from printcloud.protocol.ipp import JobState, Operation, ValueTag, attr
from printcloud.protocol.media import media_size
from printcloud.protocol.options import PrintOptions
from tests.helpers.documents import minimal_pdf
from tests.helpers.printrig import (
    PrintRig,
    cups_job_state,
    cups_job_state_of,
    cups_job_waiting,
    emulator_job,
    ipp_call,
    run_cups_tool,
    sink_file_with,
    sink_files_with,
    spool_files,
    unique_title,
)
from tests.helpers.progress import Recorded
from tests.helpers.waiting import eventually

TIMEOUT = 3.0  # the backend's no-progress timeout in these tests
POLL = 0.2


@pytest.fixture
async def backend(printrig: PrintRig) -> AsyncIterator[CupsBackend]:
    cups = CupsBackend(printrig.cups_server, job_timeout=TIMEOUT, poll_interval=POLL)
    yield cups
    await cups.close()


# printers()


async def test_printers_lists_the_rig_queues_with_their_capabilities(
    backend: CupsBackend,
) -> None:
    found = {info.name: info for info in await backend.printers()}

    pdf = found["PDFQ"].capabilities
    assert pdf["color"] is True
    assert pdf["duplex"] is True
    assert "iso_a4_210x297mm" in pdf["media"]
    assert "na_letter_8.5x11in" in pdf["media"]
    assert {"main", "photo"} <= set(pdf["bins"])  # the emulator's media-source-supported
    assert pdf["state"] in {"idle", "processing"}
    assert pdf["accepting"] is True
    assert pdf["raw"] is False
    zpl = found["ZPLQ"].capabilities
    assert zpl["raw"] is True
    assert zpl["color"] is False
    assert zpl["duplex"] is False
    assert zpl["accepting"] is True


async def test_cups_over_tcp_answers_the_same(printrig: PrintRig) -> None:
    server = printrig.cups_url.removeprefix("ipp://")  # CUPS_SERVER=host:port
    cups = CupsBackend(server, job_timeout=TIMEOUT, poll_interval=POLL)
    try:
        names = {info.name for info in await cups.printers()}
    finally:
        await cups.close()
    assert {"PDFQ", "ZPLQ"} <= names


async def test_the_cups_default_printer_is_marked(
    printrig: PrintRig, backend: CupsBackend, dead_queue: str
) -> None:
    before = [info.name for info in await backend.printers() if info.is_default]
    run_cups_tool(printrig, "lpadmin", "-d", dead_queue)
    try:
        defaults = [info.name for info in await backend.printers() if info.is_default]
    finally:  # deleting the queue clears the default; put back one the rig had
        if before:
            run_cups_tool(printrig, "lpadmin", "-d", before[0])
    assert defaults == [dead_queue]


# print(): what reaches the printer


async def test_a_pdf_with_options_reaches_the_printer(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    title = unique_title("options")
    document = Document(
        job_id="job_1",
        title=title,
        data=minimal_pdf(),
        is_pdf=True,
        options=opts({"copies": 2, "duplex": "long-edge", "color": False, "paper": "A4"}),
    )

    message = await backend.print("PDFQ", document)

    assert message.startswith("Printed on PDFQ")
    spooled = await spool_files(printrig, title, count=1)
    assert spooled[0].read_bytes().startswith(b"%PDF")  # rewritten by CUPS, still a PDF
    job = await emulator_job(printrig, title)
    assert job["copies"] == [2]
    assert job["sides"] == ["two-sided-long-edge"]
    assert job["print-color-mode"] == ["monochrome"]
    # CUPS passes the media on as a media-col with the size
    media = job["media-col"][0]
    assert isinstance(media, dict)
    assert media["media-size"] == [{"x-dimension": [21000], "y-dimension": [29700]}]


async def test_a_tray_and_a_paper_size_reach_the_printer_as_a_media_col(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    title = unique_title("tray")
    document = Document(
        "job_2", title, minimal_pdf(), True, opts({"paper": "A5", "media": "photo"})
    )

    await backend.print("PDFQ", document)

    media = (await emulator_job(printrig, title))["media-col"][0]
    assert isinstance(media, dict)
    assert media["media-source"] == ["photo"]
    assert media["media-size"] == [{"x-dimension": [14800], "y-dimension": [21000]}]


async def test_the_job_qty_prints_the_whole_job_again(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    title = unique_title("qty")
    document = Document("job_3", title, minimal_pdf(), True, PrintOptions(), copies_of_job=2)

    message = await backend.print("PDFQ", document)

    assert message.startswith("Printed on PDFQ (CUPS jobs ")
    assert len(await spool_files(printrig, title, count=2)) == 2


async def test_raw_zpl_arrives_byte_identical(printrig: PrintRig, backend: CupsBackend) -> None:
    label = b"^XA^FO50,50^ADN,36,20^FD" + secrets.token_hex(8).encode() + b"^FS^XZ\r\n\x00\xff"
    # layout options mean nothing to raw data: they are not sent, and do not fail the job
    document = Document("job_4", unique_title("zpl"), label, False, opts({"duplex": "long-edge"}))

    message = await backend.print("ZPLQ", document)

    assert message.startswith("Printed on ZPLQ")
    assert await sink_file_with(printrig, label) == label


async def test_raw_copies_and_qty_repeat_the_data(printrig: PrintRig, backend: CupsBackend) -> None:
    label = b"^XA^FD" + secrets.token_hex(8).encode() + b"^FS^XZ"
    document = Document(
        "job_5", unique_title("zpl"), label, False, opts({"copies": 2}), copies_of_job=3
    )

    await backend.print("ZPLQ", document)

    assert await sink_file_with(printrig, label) == label * 6


# print(): failures


async def test_a_broken_pdf_fails_with_the_reason(printrig: PrintRig, backend: CupsBackend) -> None:
    title = unique_title("broken")
    document = Document("job_6", title, b"%PDF-1.4 garbage", True, PrintOptions())

    with pytest.raises(PrintFailed) as failed:
        await backend.print("PDFQ", document)

    assert "job-completed-with-errors" in str(failed.value)
    assert "stopped" in str(failed.value)
    # a stopped job is cancelled, so that it does not print after the failure was reported
    assert await cups_job_state(printrig, failed.value) == JobState.CANCELED


async def test_a_paused_queue_keeps_the_job_waiting_and_says_why_then_prints_it(
    printrig: PrintRig, paused_queue: str
) -> None:
    # The no-progress limit is short: a wait for a person is not a stalled job.
    backend = CupsBackend(printrig.cups_server, job_timeout=0.5, poll_interval=POLL)
    label = f"^XA^FD{unique_title('paused')}^FS^XZ".encode()
    progress = Recorded()
    document = Document("job_7", unique_title("paused"), label, False, progress=progress)
    try:
        printing = asyncio.create_task(backend.print(paused_queue, document))
        assert await eventually(progress.told_now) == [
            f"Waiting: printer {paused_queue} is paused (Paused)"
        ]
        cups_job = progress.jobs[0][1]
        assert progress.jobs == [(paused_queue, cups_job)]
        await asyncio.sleep(1.5)  # three no-progress limits: the job must still wait
        assert not printing.done()
        run_cups_tool(printrig, "cupsenable", paused_queue)
        message = await printing
    finally:
        await backend.close()
    assert message == f"Printed on {paused_queue} (CUPS job {cups_job})"
    # "Printing on" again when a poll saw the job print before it completed
    assert progress.told[:1] == [f"Waiting: printer {paused_queue} is paused (Paused)"]
    assert set(progress.told[1:]) <= {f"Printing on {paused_queue}"}
    assert sink_files_with(printrig, label) != []
    assert len(sink_files_with(printrig, label)) == 1


async def test_a_job_that_waits_longer_than_the_wait_limit_is_cancelled(
    printrig: PrintRig, paused_queue: str
) -> None:
    backend = CupsBackend(printrig.cups_server, job_timeout=0.5, wait_limit=2, poll_interval=POLL)
    progress = Recorded()
    document = Document("job_7b", unique_title("waited"), b"^XA^XZ", False, progress=progress)
    started = time.monotonic()
    try:
        with pytest.raises(PrintFailed) as failed:
            await backend.print(paused_queue, document)
    finally:
        await backend.close()
    elapsed = time.monotonic() - started
    cups_job = progress.jobs[0][1]
    assert str(failed.value) == (
        f"waited 2 s; cancelled CUPS job {cups_job} on {paused_queue}: "
        f"printer {paused_queue} is paused (Paused)"
    )
    assert 2 <= elapsed < 5
    assert await cups_job_state_of(printrig, cups_job) == JobState.CANCELED


async def test_an_unreachable_device_fails_after_the_no_progress_timeout(
    printrig: PrintRig, backend: CupsBackend, dead_queue: str
) -> None:
    await backend.printers()  # as the agent does: print() is called with listed printers
    title = unique_title("unreachable")

    with pytest.raises(PrintFailed, match=r"^no progress within 3 s; cancelled") as failed:
        await backend.print(dead_queue, Document("job_8", title, b"^XA^XZ", False))

    assert "processing" in str(failed.value)
    assert await cups_job_state(printrig, failed.value) == JobState.CANCELED


async def test_cancel_stops_the_document_being_printed_in_cups(
    printrig: PrintRig, paused_queue: str
) -> None:
    backend = CupsBackend(printrig.cups_server, job_timeout=60, poll_interval=POLL)
    title = unique_title("cancelled")
    document = Document("job_9", title, b"^XA^XZ", False, copies_of_job=3)
    try:
        assert await backend.cancel(paused_queue, "job_9") is False  # not printing it
        printing = asyncio.create_task(backend.print(paused_queue, document))
        cups_job = await cups_job_waiting(printrig, paused_queue, title)  # held: paused

        assert await backend.cancel(paused_queue, "job_9") is True
        with pytest.raises(
            PrintFailed, match=rf"^CUPS job {cups_job} on {paused_queue} was cancel"
        ):
            await printing
        assert await backend.cancel(paused_queue, "job_9") is False  # over
    finally:
        await backend.close()
    assert await cups_job_state_of(printrig, cups_job) == JobState.CANCELED


async def test_a_queue_that_rejects_jobs_refuses_with_the_ipp_status(
    printrig: PrintRig, backend: CupsBackend, dead_queue: str
) -> None:
    run_cups_tool(printrig, "cupsreject", dead_queue)

    with pytest.raises(PrintFailed, match="server-error-not-accepting-jobs"):
        await backend.print(dead_queue, Document("job_9", unique_title("rejected"), b"x", False))


async def test_an_unknown_queue_names_the_ipp_status(backend: CupsBackend) -> None:
    with pytest.raises(PrintFailed, match="client-error-not-found") as failed:
        await backend.print("NO_SUCH_QUEUE", Document("job_10", "t", minimal_pdf(), True))
    assert "NO_SUCH_QUEUE" in str(failed.value)


async def test_cups_unreachable_raises_cups_unavailable(tmp_path: Path) -> None:
    missing = str(tmp_path / "cups.sock")
    cups = CupsBackend(missing, job_timeout=TIMEOUT, wait_limit=1, poll_interval=POLL)
    progress = Recorded()
    try:
        with pytest.raises(CupsUnavailable, match=f"CUPS at {missing} is not reachable"):
            await cups.printers()
        # print() waits for CUPS, saying so, up to the wait limit; then the job fails
        with pytest.raises(PrintFailed) as failed:
            await cups.print("PDFQ", Document("job_12", "t", b"x", False, progress=progress))
    finally:
        await cups.close()
    unreachable = f"CUPS at {missing} is not reachable: [Errno 2] No such file or directory"
    assert str(failed.value) == f"CUPS did not answer for 1 s: {unreachable}"
    assert progress.told == [f"Waiting: CUPS is not answering ({unreachable})"]


# without the rig: where CUPS is, and how options become attributes


def test_the_server_is_found_as_cups_tools_find_it(tmp_path: Path) -> None:
    socket_path = tmp_path / "cups.sock"
    socket_path.touch()
    assert locate_server("/x/cups.sock", {"CUPS_SERVER": "other"}) == CupsServer(
        socket="/x/cups.sock"
    )
    assert locate_server(None, {"CUPS_SERVER": "print.example:8631"}) == CupsServer(
        host="print.example", port=8631
    )
    assert locate_server(None, {}, [str(tmp_path / "none"), str(socket_path)]) == CupsServer(
        socket=str(socket_path)
    )
    assert locate_server(None, {}, [str(tmp_path / "none")]) == CupsServer(
        host="localhost", port=631
    )
    assert parse_server("[::1]:632") == CupsServer(host="::1", port=632)
    assert parse_server("cups.lan/version=1.1") == CupsServer(host="cups.lan", port=631)
    assert str(parse_server("[::1]")) == "[::1]:631"
    with pytest.raises(ValueError, match="neither"):
        parse_server("host:port:more")


def opts(values: dict[str, Any]) -> PrintOptions:
    return PrintOptions.model_validate(values)


def test_options_become_ipp_job_attributes() -> None:
    options = {
        "copies": 3,
        "color": True,
        "duplex": "short-edge",
        "paper": "Letter",
        "pages": "8,1-5",
        "fit_to_page": True,
        "something_newer": "ignored",
    }
    found = {a.name: a.values for a in job_attributes(opts(options), raw=False)}
    assert found == {
        "copies": (3,),
        "sides": ("two-sided-short-edge",),
        "print-color-mode": ("color",),
        "media": ("na_letter_8.5x11in",),
        "page-ranges": (ipp.Range(1, 5), ipp.Range(8, 8)),
        "print-scaling": ("fit",),
    }
    assert [a.name for a in job_attributes(opts(options), raw=True, copies=2)] == ["copies"]
    assert job_attributes(opts(options), raw=True, copies=2)[0].values == (6,)
    assert job_attributes(PrintOptions(), raw=False) == []
    custom = opts({"paper": "Custom.4x6in"})
    assert job_attributes(custom, raw=False)[0].values == ("Custom.4x6in",)


def test_paper_sizes() -> None:
    assert media_size("iso_a4_210x297mm") == (21000, 29700)
    assert media_size("na_ledger_11x17in") == (27940, 43180)
    assert media_size("na_index-4x6_4x6in") == (10160, 15240)
    assert media_size("Custom") is None


async def test_a_paused_queue_is_reported_offline(printrig: PrintRig, backend: CupsBackend) -> None:
    queue = [attr("printer-uri", ValueTag.URI, "ipp://localhost/printers/PDFQ")]
    await ipp_call(
        "http://localhost/admin/", Operation.PAUSE_PRINTER, queue, uds=printrig.cups_server
    )
    try:
        paused = {p.name: p for p in await backend.printers()}["PDFQ"]
    finally:
        await ipp_call(
            "http://localhost/admin/", Operation.RESUME_PRINTER, queue, uds=printrig.cups_server
        )
    resumed = {p.name: p for p in await backend.printers()}["PDFQ"]
    assert paused.state == "offline"
    assert paused.capabilities["state"] == "stopped"
    assert resumed.state == "online"


# what counts as progress


@pytest.fixture
def wedged_queue(printrig: PrintRig) -> Iterator[str]:
    """A raw queue of our own whose device takes the connection and never reads: CUPS's
    backend writes until the socket is full and stays there, the job "processing"."""
    with socket.create_server(("127.0.0.1", 0), backlog=4) as listener:
        port = listener.getsockname()[1]
        name = f"PCTEST_{secrets.token_hex(4)}"
        device = f"socket://127.0.0.1:{port}"
        run_cups_tool(printrig, "lpadmin", "-p", name, "-E", "-v", device, "-m", "raw")
        try:
            yield name
        finally:
            run_cups_tool(printrig, "lpadmin", "-x", name)


async def test_a_wedged_job_ends_in_error_after_the_no_progress_limit(
    printrig: PrintRig, wedged_queue: str
) -> None:
    backend = CupsBackend(printrig.cups_server, job_timeout=1.5, poll_interval=POLL)
    progress = Recorded()
    data = secrets.token_bytes(32 * 1024 * 1024)  # more than the sockets between them hold
    document = Document("job_w", unique_title("wedged"), data, False, progress=progress)
    started = time.monotonic()
    try:
        with pytest.raises(PrintFailed) as failed:
            await backend.print(wedged_queue, document)
    finally:
        await backend.close()
    cups_job = progress.jobs[0][1]
    assert str(failed.value).startswith(
        f"no progress within 1.5 s; cancelled (CUPS job {cups_job} processing: "
    )
    assert time.monotonic() - started < 6
    assert progress.told == []  # a wedged job is not a printer waiting for someone
    assert await cups_job_state_of(printrig, cups_job) == JobState.CANCELED


def test_progress_is_a_new_page_not_a_page_counted_again_by_a_retry() -> None:
    moves = Progress()
    assert moves.moved(JobState.PENDING, 0) is False
    assert moves.moved(JobState.PROCESSING, 0) is True  # it started
    assert moves.moved(JobState.PROCESSING, 0) is False
    assert moves.moved(JobState.PROCESSING, 2) is True  # two pages
    assert moves.moved(JobState.PROCESSING, 2) is False
    # CUPS retries the job: back to pending, and its counter goes on from 2
    assert moves.moved(JobState.PENDING, 2) is False
    assert moves.moved(JobState.PROCESSING, 3) is False  # this run: page 1 again
    assert moves.moved(JobState.PROCESSING, 4) is False  # page 2 again
    assert moves.moved(JobState.PENDING_HELD, 4) is False
    assert moves.moved(JobState.PROCESSING, 5) is False
    assert moves.moved(JobState.PROCESSING, 7) is False  # two pages in this run, as before
    assert moves.moved(JobState.PROCESSING, 8) is True  # a third page: further than ever
    assert moves.moved(JobState.PROCESSING, 8) is False


# refused before CUPS sees them


async def test_a_pdf_to_a_raw_queue_is_refused_before_submission(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    progress = Recorded()
    document = Document("job_r", unique_title("pdf-raw"), minimal_pdf(), True, progress=progress)

    with pytest.raises(PrintFailed) as failed:
        await backend.print("ZPLQ", document)

    assert str(failed.value) == (
        "ZPLQ is a raw CUPS queue (its data goes to the printer as it is); send raw data, not a PDF"
    )
    assert progress.jobs == []  # CUPS never had it


async def test_an_unknown_paper_fails_naming_the_papers_the_printer_takes(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    progress = Recorded()
    document = Document(
        "job_p",
        unique_title("paper"),
        minimal_pdf(),
        True,
        opts({"paper": "foo"}),
        progress=progress,
    )

    with pytest.raises(PrintFailed) as failed:
        await backend.print("PDFQ", document)

    supported = {p.name: p for p in await backend.printers()}["PDFQ"].capabilities["media"]
    assert "iso_a4_210x297mm" in supported
    assert "na_letter_8.5x11in" in supported
    assert str(failed.value).startswith("PDFQ has no paper 'foo'; it takes ")
    named = str(failed.value).removeprefix("PDFQ has no paper 'foo'; it takes ").split(", ")
    assert {"A4", "Letter"} <= set(named)
    assert len(named) == len([m for m in supported if not m.startswith("custom_")])
    assert progress.jobs == []


async def test_a_paper_the_printer_lists_by_its_pwg_name_is_taken(
    printrig: PrintRig, backend: CupsBackend
) -> None:
    title = unique_title("pwg-paper")
    document = Document("job_q", title, minimal_pdf(), True, opts({"paper": "na_letter_8.5x11in"}))

    assert (await backend.print("PDFQ", document)).startswith("Printed on PDFQ")


# after a restart: CUPS jobs followed, not printed again


async def test_follow_reports_what_cups_did_with_jobs_submitted_before_a_restart(
    printrig: PrintRig, backend: CupsBackend, dead_queue: str
) -> None:
    printed = Recorded()
    label = f"^XA^FD{unique_title('before')}^FS^XZ".encode()
    await backend.print("ZPLQ", Document("job_b", "before", label, False, progress=printed))
    [(_, done)] = printed.jobs

    assert await backend.follow("ZPLQ", "job_b", [done], 1, Recorded()) == (
        f"Printed on ZPLQ (CUPS job {done})"
    )
    with pytest.raises(PrintFailed) as partly:
        await backend.follow("ZPLQ", "job_b", [done], 3, Recorded())
    assert str(partly.value) == (
        "the agent stopped before submitting every copy of the job: 1 of 3 printed on ZPLQ "
        f"(CUPS jobs {done})"
    )
    run_cups_tool(printrig, "cupsdisable", dead_queue)
    held = Recorded()
    following = asyncio.create_task(
        backend.print(dead_queue, Document("job_h", "held", b"^XA^XZ", False, progress=held))
    )
    await eventually(held.told_now)
    following.cancel()  # the agent dies; CUPS keeps the job
    with contextlib.suppress(asyncio.CancelledError):
        await following
    [(_, kept)] = held.jobs
    run_cups_tool(printrig, "cancel", str(kept))
    with pytest.raises(PrintFailed) as cancelled:
        await backend.follow(dead_queue, "job_h", [kept], 1, Recorded())
    assert str(cancelled.value).startswith(f"CUPS job {kept} on {dead_queue} was cancelled: ")
