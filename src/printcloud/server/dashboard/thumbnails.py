"""A small PNG of a PDF's first page, for the job page, rendered in a worker process.

pdfium runs in :mod:`.thumbnail_worker`, never in the server: a hostile document can
make it allocate what it likes, and a process of its own is the one sure bound. Each
render gets a memory limit and a time limit, and at most ``at_once`` run at a time, so
a burst of requests waits its turn instead of starting a process each.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from subprocess import PIPE

import anyio
import structlog
from anyio.abc import ByteReceiveStream

from printcloud.server.dashboard.thumbnail_contract import Ending
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

# The module by name: importing it would load pdfium into the server.
WORKER = (sys.executable, "-m", "printcloud.server.dashboard.thumbnail_worker")
_WHITESPACE = re.compile(rb"\s+")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_REASONS = {
    Ending.UNREADABLE: "unreadable",
    Ending.PAGE_REFUSED: "page_refused",
    Ending.OUT_OF_MEMORY: "memory_limit",
}


@dataclass(frozen=True)
class RenderLimits:
    memory: int  # bytes of address space a worker may use (enforced on Linux)
    timeout: float  # seconds a worker may take before it is killed
    at_once: int  # workers running at once in this server process

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderLimits:
        return cls(
            memory=settings.thumbnail_memory_limit,
            timeout=settings.thumbnail_timeout,
            at_once=settings.thumbnail_concurrency,
        )


class _NoPreview(Exception):
    def __init__(self, reason: str, detail: str, worker: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.worker = worker  # its process id, when one was started


class Thumbnailer:
    """Renders thumbnails for one server process, each in a worker of its own."""

    def __init__(self, limits: RenderLimits, worker: Sequence[str] = WORKER) -> None:
        self.limits = limits
        self._worker = [*worker]  # the command; its one argument, the memory limit, follows
        self._workers = anyio.CapacityLimiter(limits.at_once)

    async def first_page_png(self, content_base64: str) -> bytes | None:
        """The first page as PNG, or None when there is no preview: the data is not a PDF
        pdfium can read, its page is refused, or the worker hit a limit or crashed. A
        None is logged with its reason, never with the document."""
        try:
            try:
                pdf = base64.b64decode(_WHITESPACE.sub(b"", content_base64.encode("ascii")))
            except (binascii.Error, UnicodeEncodeError):
                raise _NoPreview("unreadable", "the content is not base64") from None
            async with self._workers:
                return await self._render(pdf)
        except _NoPreview as exc:
            # The document's fault is news; a limit hit or a crash may be an attack or a bug.
            level = log.info if exc.reason in {"unreadable", "page_refused"} else log.warning
            level("thumbnail_not_rendered", reason=exc.reason, detail=exc.detail, worker=exc.worker)
            return None

    async def _render(self, pdf: bytes) -> bytes:
        command = [*self._worker, str(self.limits.memory)]
        output, errors = bytearray(), bytearray()
        try:
            worker = await anyio.open_process(command, stdin=PIPE, stdout=PIPE, stderr=PIPE)
        except (OSError, NotImplementedError) as exc:  # the latter: Windows' selector loop
            raise _NoPreview("no_worker", f"the worker could not start ({exc!r})") from None
        async with worker:  # leaving it kills the worker if this task is cancelled
            stdin, stdout, stderr = worker.stdin, worker.stdout, worker.stderr
            assert stdin is not None
            assert stdout is not None
            assert stderr is not None
            with anyio.move_on_after(self.limits.timeout) as deadline:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(_drain, stdout, output)
                    tasks.start_soon(_drain, stderr, errors)
                    try:
                        await stdin.send(pdf)
                        await stdin.aclose()
                    except anyio.BrokenResourceError:
                        pass  # it ended without reading it all: its exit status says why
                    await worker.wait()
            if deadline.cancelled_caught:
                # Leaving the block waits for the worker: it must be gone first.
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    worker.kill()
                await worker.wait()
                why = f"killed after {self.limits.timeout:g} s"
                raise _NoPreview("timeout", why, worker.pid)
        status = worker.returncode
        assert status is not None
        if status == Ending.RENDERED and output.startswith(_PNG_SIGNATURE):
            return bytes(output)
        why = _last_line(errors)
        if status in _REASONS:
            raise _NoPreview(_REASONS[Ending(status)], why, worker.pid)
        if status < 0:
            # pdfium ends the process itself when an allocation fails: often the limit.
            why = f"ended by signal {_signal_name(-status)}"
        raise _NoPreview("crashed", f"exit status {status}: {why}", worker.pid)


async def _drain(stream: ByteReceiveStream, into: bytearray) -> None:
    async for chunk in stream:
        into += chunk


def _last_line(errors: bytearray) -> str:
    lines = errors.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
