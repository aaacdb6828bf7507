"""The agent against a scripted server end of the protocol (tests/helpers/protocol_peer):
what it announces in ``auth``, ``cancel_job`` in each phase of a job, and the close
codes it understands. The peer speaks through ``protocol.session.ServerSession``, as the
server does; it sends ``cancel_job`` and closes at the moment a test chooses."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from structlog.testing import capture_logs

from printcloud.agent.config import AgentConfig
from printcloud.agent.journal import CANCELLED, Entry, Journal
from printcloud.agent.printers.base import Backend
from printcloud.agent.printers.cups import CupsBackend
from printcloud.agent.reconnect import REPLACED, AgentFatal
from printcloud.agent.runner import Agent
from printcloud.protocol.ipp import JobState as CupsJobState
from printcloud.protocol.job_states import JobState
from printcloud.protocol.messages import Feature, JobPayload
from printcloud.protocol.retry_hint import CLOSE_SERVICE_RESTART, CLOSE_TRY_AGAIN_LATER
from printcloud.protocol.session import CLOSE_KEY_REVOKED, CLOSE_REPLACED
from tests.helpers.agent import CountingFolder, running
from tests.helpers.documents import PDF
from tests.helpers.live_server import serve_asgi
from tests.helpers.printrig import (
    PrintRig,
    cups_job_state_of,
    cups_job_waiting,
    run_cups_tool,
    sink_file_with,
    sink_files_with,
    unique_title,
)
from tests.helpers.protocol_peer import PeerConnection, ProtocolPeer, protocol_peer
from tests.helpers.waiting import eventually

MACHINE_ID = "5b0d7d2c6f1e4a8e9a3b1c2d3e4f5a6b"


def config(peer: ProtocolPeer, tmp_path: Path, **fields: Any) -> AgentConfig:
    values: dict[str, Any] = {
        "server": peer.url,
        "api_key": "pk_live_peer",
        "name": "Peer-PC",
        "machine_id": MACHINE_ID,
        "cups": False,
        "windows": False,
        "data_dir": tmp_path / "agent",
        "printer_poll_interval": 60,
    }
    return AgentConfig(**(values | fields))


def raw_job(job_id: str, data: bytes = b"^XA^FDlabel^FS^XZ", printer: str = "Folder") -> JobPayload:
    return JobPayload(
        id=job_id,
        printer_name=printer,
        content_type="raw_base64",
        content=base64.b64encode(data).decode(),
        title=job_id,
    )


@contextlib.asynccontextmanager
async def agent_on(
    peer: ProtocolPeer, backend: Backend, journal: Journal, tmp_path: Path, **fields: Any
) -> AsyncIterator[tuple[Agent, PeerConnection]]:
    """An agent of ``backend`` connected to ``peer``, its printers answered."""
    agent = Agent(config(peer, tmp_path, **fields), [backend], journal)
    async with running(agent):
        connection = await peer.connection()
        await connection.ready()
        yield agent, connection


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


# auth


async def test_auth_announces_every_feature_and_the_machine_id(
    tmp_path: Path, journal: Journal
) -> None:
    backend = CountingFolder(tmp_path / "out")
    async with protocol_peer() as peer, agent_on(peer, backend, journal, tmp_path) as (agent, c):
        assert c.auth.features == ["cancel", "fetch", "resume"]
        assert c.auth.machine_id == MACHINE_ID
        assert c.auth.computer_name == "Peer-PC"
        link = agent._link
        assert link is not None
        assert link.session.features == frozenset(Feature)  # what the peer accepted


# cancel_job


async def test_a_queued_job_that_is_cancelled_is_never_printed(
    tmp_path: Path, journal: Journal
) -> None:
    backend = CountingFolder(tmp_path / "out")
    backend.release.clear()  # the first job holds the printer: the next one waits
    async with protocol_peer() as peer, agent_on(peer, backend, journal, tmp_path) as (_, c):
        await c.send_job(raw_job("pj_first"))
        await eventually(lambda: _true(backend.printed == ["pj_first"]))
        await c.send_job(raw_job("pj_queued"))
        await c.cancel_job("pj_queued")
        await eventually(lambda: _true(journal.get("pj_queued") is not None))
        backend.release.set()
        # One printer prints its jobs in order: once this one is done, the queued job's
        # turn has passed.
        await c.send_job(raw_job("pj_after"))
        await c.report("pj_after", JobState.COMPLETED)

    assert backend.printed == ["pj_first", "pj_after"]
    assert journal.get("pj_queued") == Entry("pj_queued", JobState.ERROR, CANCELLED)
    assert c.reports("pj_queued") == []  # deleted on the server: nothing to tell it
    assert not (tmp_path / "out" / "pj_queued.bin").exists()


async def test_a_job_cancelled_before_it_arrives_is_not_printed_when_it_comes(
    tmp_path: Path, journal: Journal
) -> None:
    backend = CountingFolder(tmp_path / "out")
    async with protocol_peer() as peer, agent_on(peer, backend, journal, tmp_path) as (_, c):
        await c.cancel_job("pj_late")
        await c.send_job(raw_job("pj_late"))
        report = await c.report("pj_late", JobState.ERROR)

    assert report.message == CANCELLED
    assert backend.printed == []
    assert journal.get("pj_late") == Entry("pj_late", JobState.ERROR, CANCELLED)


@contextlib.asynccontextmanager
async def held_document() -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Event]]:
    """A PDF's URL whose answer waits: (url, requested, release)."""
    requested, release = asyncio.Event(), asyncio.Event()

    async def document(_: Request) -> Response:
        requested.set()
        await release.wait()
        return Response(PDF, media_type="application/pdf")

    app = Starlette(routes=[Route("/held.pdf", document)])
    async with serve_asgi(uvicorn.Config(app, log_level="warning")) as url:
        yield f"{url}/held.pdf", requested, release


async def test_a_job_cancelled_while_its_document_downloads_is_not_printed(
    tmp_path: Path, journal: Journal
) -> None:
    backend = CountingFolder(tmp_path / "out")
    with capture_logs() as logs:
        async with (
            held_document() as (url, requested, release),
            protocol_peer() as peer,
            agent_on(peer, backend, journal, tmp_path, allow_private_urls=True) as (_, c),
        ):
            job = JobPayload(
                id="pj_loading",
                printer_name="Folder",
                content_type="pdf_uri",
                content=url,
                title="t",
            )
            await c.send_job(job)
            async with asyncio.timeout(10):
                await requested.wait()
            await c.cancel_job("pj_loading")
            await eventually(lambda: _true(_logged(logs, "job_cancelling")))
            release.set()
            await c.send_job(raw_job("pj_after"))
            await c.report("pj_after", JobState.COMPLETED)

    assert backend.printed == ["pj_after"]
    assert journal.get("pj_loading") == Entry("pj_loading", JobState.ERROR, CANCELLED)
    assert [r.state for r in c.reports("pj_loading")] == [JobState.PRINTING]


async def test_a_job_the_backend_cannot_stop_is_recorded_as_printed_and_not_reported(
    tmp_path: Path, journal: Journal
) -> None:
    backend = CountingFolder(tmp_path / "out")  # a folder cannot take a document back
    backend.release.clear()
    with capture_logs() as logs:
        async with protocol_peer() as peer, agent_on(peer, backend, journal, tmp_path) as (_, c):
            await c.send_job(raw_job("pj_busy"))
            await eventually(lambda: _true(backend.printed == ["pj_busy"]))
            await c.cancel_job("pj_busy")
            await eventually(lambda: _true(_logged(logs, "job_cancel_asked")))
            backend.release.set()
            await c.send_job(raw_job("pj_after"))
            await c.report("pj_after", JobState.COMPLETED)

    [asked] = [e for e in logs if e["event"] == "job_cancel_asked"]
    assert asked["stopped"] is False
    entry = journal.get("pj_busy")
    assert entry is not None
    assert entry.state is JobState.COMPLETED
    assert entry.message.endswith("the job was deleted while printing, too late to stop it")
    assert [r.state for r in c.reports("pj_busy")] == [JobState.PRINTING]
    assert (tmp_path / "out" / "pj_busy.bin").exists()


async def test_a_job_held_in_cups_is_cancelled_there_and_never_reaches_the_printer(
    tmp_path: Path, journal: Journal, printrig: PrintRig, paused_queue: str
) -> None:
    cups = CupsBackend(printrig.cups_server, job_timeout=60, poll_interval=0.2)
    title = unique_title("cancel")
    token = f"^XA^FD{title}^FS^XZ".encode()
    marker = f"^XA^FD{unique_title('after')}^FS^XZ".encode()
    fields = {"only_printers": [paused_queue]}
    try:
        async with (
            protocol_peer() as peer,
            agent_on(peer, cups, journal, tmp_path, **fields) as (_, c),
        ):
            job = raw_job("pj_cups", token, printer=paused_queue)
            await c.send_job(job.model_copy(update={"title": title}))
            cups_job = await cups_job_waiting(printrig, paused_queue, title)  # held: paused
            await eventually(lambda: _reported(c, "pj_cups", 2))  # and the agent said why
            await c.cancel_job("pj_cups")
            entry = await eventually(lambda: _finished(journal, "pj_cups"))
            assert await cups_job_state_of(printrig, cups_job) == CupsJobState.CANCELED

            # The queue prints again; the next job through it comes out, and the
            # cancelled one, which CUPS would have sent first, did not.
            run_cups_tool(printrig, "cupsenable", paused_queue)
            await c.send_job(raw_job("pj_after", marker, printer=paused_queue))
            await c.report("pj_after", JobState.COMPLETED)
            await sink_file_with(printrig, marker)
    finally:
        await cups.close()

    assert sink_files_with(printrig, token) == []
    assert entry.state is JobState.ERROR
    assert entry.message.startswith(f"{CANCELLED} while printing (CUPS job {cups_job} ")
    assert "was cancelled" in entry.message
    # printing, then why it waits (the queue is paused); no outcome: the job was deleted
    assert [(r.state, r.message) for r in c.reports("pj_cups")] == [
        (JobState.PRINTING, f"Printing on {paused_queue}"),
        (JobState.PRINTING, f"Waiting: printer {paused_queue} is paused (Paused)"),
    ]


async def _reported(connection: PeerConnection, job_id: str, count: int) -> bool:
    return len(connection.reports(job_id)) >= count


# close codes


async def test_a_revoked_key_closing_the_connection_stops_the_agent(
    tmp_path: Path, journal: Journal
) -> None:
    async with protocol_peer() as peer:
        agent = Agent(config(peer, tmp_path), [], journal)
        task = asyncio.create_task(agent.run())
        connection = await peer.connection()
        await connection.close(CLOSE_KEY_REVOKED, "the API key was revoked")
        with pytest.raises(AgentFatal, match=r"revoked; run `printcloud agent login` again"):
            async with asyncio.timeout(10):
                await task


async def test_a_connection_taken_over_waits_before_coming_back(
    tmp_path: Path, journal: Journal
) -> None:
    async with protocol_peer() as peer:
        agent = Agent(config(peer, tmp_path), [], journal)
        with capture_logs() as logs:
            task = asyncio.create_task(agent.run())
            connection = await peer.connection()
            await connection.close(CLOSE_REPLACED, "replaced by a new connection")
            waiting = await eventually(lambda: _first(logs, "reconnecting"))
        agent.request_stop()  # ends the wait
        async with asyncio.timeout(10):
            await task

    [replaced] = [e for e in logs if e["event"] == "connection_replaced"]
    assert replaced["reason"] == REPLACED == "another computer connected with this name"
    assert 24 <= waiting["in_seconds"] <= 36  # 30 s, jittered
    assert not any(e["event"] == "connection_lost" for e in logs)


async def test_a_busy_server_is_come_back_to_after_its_hint_not_at_once(
    tmp_path: Path, journal: Journal
) -> None:
    async with protocol_peer() as peer:
        peer.refuse_next(CLOSE_TRY_AGAIN_LATER, "busy; retry_after=1.5")
        agent = Agent(config(peer, tmp_path), [], journal)
        with capture_logs() as logs:
            async with running(agent):
                connection = await peer.connection()

    assert connection.auth.computer_name == "Peer-PC"  # the second connection got in
    refused, accepted = peer.arrivals
    # The rule, seen from the server: not a second before the hint (the usual first
    # delay is at most 1 s).
    assert accepted - refused >= 1.5
    [busy] = [e for e in logs if e["event"] == "server_busy"]
    assert (busy["hint_seconds"], busy["log_level"]) == (1.5, "info")
    assert not _logged(logs, "connection_lost")


async def test_a_restarting_server_is_come_back_to_after_its_hint_and_said_at_info(
    tmp_path: Path, journal: Journal
) -> None:
    async with protocol_peer() as peer:
        agent = Agent(config(peer, tmp_path), [], journal)
        with capture_logs() as logs:
            async with running(agent):
                first = await peer.connection()
                await first.ready()  # nothing more on its way from the agent
                closed_at = asyncio.get_running_loop().time()
                await first.close(CLOSE_SERVICE_RESTART, "server restarting; retry_after=1.2")
                await peer.connection()

    assert peer.arrivals[1] - closed_at >= 1.2
    [restarting] = [e for e in logs if e["event"] == "server_restarting"]
    assert restarting["log_level"] == "info"
    assert not any(e["log_level"] == "warning" for e in logs)


async def _true(value: bool) -> bool:
    return value


async def _finished(journal: Journal, job_id: str) -> Entry | None:
    entry = journal.get(job_id)
    return entry if entry is not None and entry.finished else None


async def _first(
    logs: list[MutableMapping[str, Any]], event: str
) -> MutableMapping[str, Any] | None:
    return next((e for e in logs if e["event"] == event), None)


def _logged(logs: list[MutableMapping[str, Any]], event: str) -> bool:
    return any(e["event"] == event for e in logs)
