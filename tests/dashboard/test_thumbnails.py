"""A job's thumbnail: any page fits the box, and pdfium renders it in a worker process
under a memory and a time limit, so no document can make the server allocate what it
asks for. Whatever goes wrong is the same "no preview", logged with its reason."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from printcloud.server.app import create_app
from printcloud.server.dashboard.thumbnail_contract import BOX_HEIGHT, BOX_WIDTH
from printcloud.server.dashboard.thumbnails import RenderLimits, Thumbnailer
from printcloud.server.db.models import Printer
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.dashboard import web_login
from tests.helpers.pdfs import A4, shade_of_page, shaded_pdf

TALL = (1.0, 14_400.0)  # points: PDF's tallest page, one point wide
# A worker whose render never ends (by a command line of its own, to be found by it).
STUCK_MARKER = "a-render-that-never-ends"
STUCK = (sys.executable, "-c", f"import time; time.sleep(600)  # {STUCK_MARKER}")


def _b64(pdf: bytes) -> str:
    return base64.b64encode(pdf).decode()


def _limits(**limits: float) -> RenderLimits:
    """The server's limits, but one render at a time, with ``limits`` changed."""
    defaults = RenderLimits.from_settings(Settings())
    return RenderLimits(
        memory=int(limits.get("memory", defaults.memory)),
        timeout=limits.get("timeout", defaults.timeout),
        at_once=int(limits.get("at_once", 1)),
    )


def _thumbnailer(**limits: float) -> Thumbnailer:
    return Thumbnailer(_limits(**limits))


def _image(png: bytes | None) -> Image.Image:
    assert png is not None
    assert png.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(png))


def _not_rendered(logs: list[MutableMapping[str, Any]]) -> MutableMapping[str, Any]:
    [logged] = [e for e in logs if e["event"] == "thumbnail_not_rendered"]
    return logged


@pytest.mark.parametrize(
    ("size", "rotate", "pixels"),
    [
        ((1.0, 1000.0), 0, (1, BOX_HEIGHT)),
        (TALL, 0, (1, BOX_HEIGHT)),
        ((14_400.0, 1.0), 0, (BOX_WIDTH, 1)),
        (A4, 0, (BOX_WIDTH, 340)),
        ((A4[1], A4[0]), 0, (BOX_WIDTH, 170)),
        # /Rotate turns the page as displayed; the box bounds what is displayed.
        ((14_400.0, 1.0), 90, (1, BOX_HEIGHT)),
        (TALL, 270, (BOX_WIDTH, 1)),
    ],
)
async def test_a_page_of_any_shape_is_fitted_into_the_box(
    size: tuple[float, float], rotate: int, pixels: tuple[int, int]
) -> None:
    png = await _thumbnailer().first_page_png(_b64(shaded_pdf(size=size, rotate=rotate)))
    image = _image(png)
    assert image.size == pixels
    assert image.width <= BOX_WIDTH
    assert image.height <= BOX_HEIGHT
    # It is the page: filled with its own grey, not a blank bitmap.
    grey = image.convert("L").getpixel((image.width // 2, image.height // 2))
    assert grey == pytest.approx(shade_of_page(1), abs=2)


@pytest.mark.parametrize(
    ("size", "detail"),
    [
        ((0.0, 0.0), "MediaBox 0 x 0 pt refused"),
        ((1.0, 20_000.0), "MediaBox 1 x 20000 pt refused"),
        ((20_000.0, 20_000.0), "MediaBox 20000 x 20000 pt refused"),
    ],
)
async def test_an_absurd_page_is_no_preview_with_its_reason(
    size: tuple[float, float], detail: str
) -> None:
    with capture_logs() as logs:
        png = await _thumbnailer().first_page_png(_b64(shaded_pdf(size=size)))
    assert png is None
    logged = _not_rendered(logs)
    assert logged["reason"] == "page_refused"
    assert logged["detail"] == detail


async def test_a_document_pdfium_cannot_read_is_no_preview_with_its_reason() -> None:
    secret = b"%PDF-1.4 not really a PDF: account 12345"
    with capture_logs() as logs:
        assert await _thumbnailer().first_page_png(_b64(secret)) is None
        assert await _thumbnailer().first_page_png("not base64!") is None
    first, second = [e for e in logs if e["event"] == "thumbnail_not_rendered"]
    assert first["reason"] == second["reason"] == "unreadable"
    assert "12345" not in repr(logs)  # the document never reaches the log


async def test_a_render_over_the_memory_limit_is_no_preview_in_a_worker_of_its_own() -> None:
    # Less address space than the worker already has: the bitmap cannot be allocated.
    tiny = 1024 * 1024
    with capture_logs() as logs:
        png = await _thumbnailer(memory=tiny).first_page_png(_b64(shaded_pdf(size=A4)))
    assert png is None
    logged = _not_rendered(logs)
    assert logged["reason"] == "memory_limit"
    assert logged["detail"] == f"the render needed more than the memory limit ({tiny} bytes)"
    assert isinstance(logged["worker"], int)
    assert logged["worker"] != os.getpid()


def test_the_server_process_never_loads_pdfium() -> None:
    # A fresh interpreter: this one may have pdfium loaded by other tests.
    script = f"""
import anyio, base64, json, sys
from printcloud.server.dashboard.thumbnails import RenderLimits, Thumbnailer
from printcloud.server.settings import Settings
from tests.helpers.pdfs import shaded_pdf

async def main():
    thumbnailer = Thumbnailer(RenderLimits.from_settings(Settings()))
    content = base64.b64encode(shaded_pdf(size={TALL!r})).decode()
    png = await thumbnailer.first_page_png(content)
    print(json.dumps({{"png": png is not None, "pdfium": "pypdfium2" in sys.modules}}))

anyio.run(main)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=120
    )
    assert json.loads(ran.stdout) == {"png": True, "pdfium": False}


async def test_a_render_over_the_time_limit_is_no_preview_and_its_worker_is_gone() -> None:
    thumbnailer = Thumbnailer(_limits(timeout=0.5), worker=STUCK)
    with capture_logs() as logs, anyio.fail_after(60):  # a stuck test fails, not hangs
        png = await thumbnailer.first_page_png(_b64(shaded_pdf(size=A4)))
    assert png is None
    logged = _not_rendered(logs)
    assert logged["reason"] == "timeout"
    assert logged["detail"] == "killed after 0.5 s"
    worker = logged["worker"]
    assert isinstance(worker, int)
    with pytest.raises(ProcessLookupError):  # not even a zombie: it was waited for
        os.kill(worker, 0)


async def test_a_worker_that_cannot_start_is_no_preview_with_its_reason(tmp_path: Path) -> None:
    thumbnailer = Thumbnailer(_limits(), worker=(str(tmp_path / "no-such-python"),))
    with capture_logs() as logs:
        assert await thumbnailer.first_page_png(_b64(shaded_pdf())) is None
    logged = _not_rendered(logs)
    assert logged["reason"] == "no_worker"
    assert "FileNotFoundError" in logged["detail"]


async def test_the_owner_gets_a_tall_pages_thumbnail_within_the_box(
    client: httpx.AsyncClient, account: TestAccount, printer_id: str
) -> None:
    created = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        json={
            "printerId": printer_id,
            "contentType": "pdf_base64",
            "content": _b64(shaded_pdf(size=TALL)),
            "title": "Tall",
        },
    )
    assert created.status_code == 201
    job_id = created.json()
    await web_login(client, account.user.email)
    thumbnail = await client.get(f"/jobs/{job_id}/thumbnail.png")
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/png"
    assert thumbnail.headers["cache-control"] == "private, max-age=3600"
    assert _image(thumbnail.content).size == (1, BOX_HEIGHT)


async def test_a_limit_from_the_settings_gives_the_page_no_preview_and_logs_the_job(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(thumbnail_memory_limit=1024 * 1024)
    account = await make_account(runtime)
    computer = await account.add_computer(runtime)
    async with runtime.sessionmaker() as session:
        printer_id = await session.scalar(
            select(Printer.id).where(Printer.computer_id == computer.id)
        )
    async with client_for(create_app(runtime=runtime)) as client:
        jobs = {}
        for content_type, content in (("pdf_base64", shaded_pdf()), ("raw_base64", b"ZPL")):
            created = await client.post(
                "/api/printjobs",
                auth=account.auth(),
                json={
                    "printerId": printer_id,
                    "contentType": content_type,
                    "content": _b64(content),
                },
            )
            jobs[content_type] = created.json()
        await web_login(client, account.user.email)
        with capture_logs(processors=[merge_contextvars]) as logs:
            thumbnail = await client.get(f"/jobs/{jobs['pdf_base64']}/thumbnail.png")
        not_a_pdf = await client.get(f"/jobs/{jobs['raw_base64']}/thumbnail.png")
    # The page's answer for a document it cannot show, as for one that is not a PDF.
    assert thumbnail.status_code == not_a_pdf.status_code == 404
    assert thumbnail.text.replace(jobs["pdf_base64"], "ID") == not_a_pdf.text.replace(
        jobs["raw_base64"], "ID"
    )
    logged = _not_rendered(logs)
    assert logged["reason"] == "memory_limit"
    assert logged["job_id"] == jobs["pdf_base64"]


def _workers_of_this_process(marker: str) -> list[int]:
    """The running children of this process whose command line holds ``marker`` (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue  # ended meanwhile
        if parent == os.getpid() and marker.encode() in command:
            found.append(int(entry.name))
    return found


async def test_at_most_two_workers_run_at_once_and_a_gone_request_takes_its_own() -> None:
    thumbnailer = Thumbnailer(_limits(at_once=2), worker=STUCK)
    async with anyio.create_task_group() as requests:
        for _ in range(5):
            requests.start_soon(thumbnailer.first_page_png, _b64(shaded_pdf()))
        await anyio.wait_all_tasks_blocked()  # two rendering, three waiting their turn
        running = _workers_of_this_process(STUCK_MARKER)
        assert len(running) == 2
        requests.cancel_scope.cancel()  # the browsers went away
    assert _workers_of_this_process(STUCK_MARKER) == []
    for pid in running:
        with pytest.raises(ProcessLookupError):  # killed and waited for
            os.kill(pid, 0)
