"""Documents: decoded, or downloaded from a real HTTP server within limits and under the
address policy of printcloud.outbound, and checked.

The test server listens on 127.0.0.1, a private address: the downloads that must work
allow private URLs, as an office's agent fetching from its NAS would."""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from printcloud.agent.content import ContentError, load_document
from printcloud.outbound import DownloadFailed, DownloadRefused, download
from printcloud.protocol.messages import JobPayload
from tests.helpers.documents import PDF
from tests.helpers.live_server import serve_asgi
from tests.helpers.resolver import names_resolving_to

LIMIT = 10_000
PRIVATE_OK: dict[str, Any] = {"max_bytes": LIMIT, "time_limit": 5, "allow_private": True}


async def _pdf(_: Request) -> Response:
    return Response(PDF, media_type="application/pdf")


async def _not_pdf(_: Request) -> Response:
    return Response(b"<html>not a pdf</html>", media_type="text/html")


async def _declared_big(_: Request) -> Response:
    return Response(b"%PDF-" + b"x" * (LIMIT * 2))


async def _streamed_big(_: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4\n"
        for _ in range(100):
            yield b"x" * 1000

    return StreamingResponse(chunks())  # chunked: no Content-Length to refuse up front


async def _slow(_: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4\n"
        await asyncio.sleep(5)  # a server this slow is what the download's time limit is for
        yield b"too late"

    return StreamingResponse(chunks())


async def _missing(_: Request) -> Response:
    return Response(b"gone", status_code=404)


def _streamed(size: int) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield PDF
        yield b"x" * (size - len(PDF))

    return StreamingResponse(chunks())  # chunked: only the bytes that came tell the size


async def _gzipped(_: Request) -> Response:
    return Response(gzip.compress(PDF), headers={"Content-Encoding": "gzip"})


APP = Starlette(
    routes=[
        Route("/doc.pdf", _pdf),
        Route("/page.html", _not_pdf),
        Route("/big", _declared_big),
        Route("/streamed-big", _streamed_big),
        Route("/slow", _slow),
        Route("/missing", _missing),
        Route("/exactly-the-limit", lambda _: _streamed(LIMIT)),
        Route("/one-byte-over", lambda _: _streamed(LIMIT + 1)),
        Route("/gzipped", _gzipped),
        Route("/to-private", lambda _: RedirectResponse("http://10.1.2.3/doc.pdf")),
        Route("/redirect", lambda _: RedirectResponse("/doc.pdf")),
        Route("/to-ftp", lambda _: RedirectResponse("ftp://127.0.0.1/doc.pdf")),
        Route("/loop", lambda _: RedirectResponse("/loop")),
    ]
)


@pytest.fixture
async def files() -> AsyncIterator[str]:
    async with serve_asgi(uvicorn.Config(APP, log_level="warning")) as url:
        yield url


def job(content_type: str, content: str) -> JobPayload:
    return JobPayload(
        id="pj_1",
        printer_name="HP",
        content_type=content_type,
        content=content,
        title="Invoice",
        options={"copies": 2},
        qty=3,
    )


async def test_base64_pdf_is_decoded_and_checked() -> None:
    document = await load_document(
        job("pdf_base64", base64.b64encode(PDF).decode()), max_bytes=LIMIT, time_limit=5
    )
    assert document.data == PDF
    assert document.is_pdf
    assert document.options.as_sent() == {"copies": 2}
    assert document.copies_of_job == 3


async def test_raw_base64_is_any_bytes() -> None:
    zpl = b"^XA^FDHello^FS^XZ"
    document = await load_document(
        job("raw_base64", base64.b64encode(zpl).decode()), max_bytes=LIMIT, time_limit=5
    )
    assert document.data == zpl
    assert not document.is_pdf


@pytest.mark.parametrize(
    ("content_type", "content", "reason"),
    [
        ("pdf_base64", "!!not base64!!", "not valid base64"),
        ("pdf_base64", base64.b64encode(b"plain text").decode(), "not a PDF"),
        ("raw_base64", "", "empty"),
        ("pdf_base64", base64.b64encode(b"%PDF-" + b"x" * LIMIT).decode(), "limit"),
    ],
)
async def test_bad_base64_documents_are_refused(
    content_type: str, content: str, reason: str
) -> None:
    with pytest.raises(ContentError, match=reason):
        await load_document(job(content_type, content), max_bytes=LIMIT, time_limit=5)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"duplex": "sideways"}, "duplex"),
        ({"copies": 0}, "copies"),
        ({"copies": 1000}, "copies"),
        ({"pages": "5-1"}, "pages"),
        ({"color": "sometimes"}, "color"),
    ],
)
async def test_an_invalid_option_fails_the_job_before_anything_is_printed(
    options: dict[str, object], name: str
) -> None:
    zpl = base64.b64encode(b"^XA^XZ").decode()
    payload = job("raw_base64", zpl).model_copy(update={"options": options})
    with pytest.raises(ContentError, match=f"^invalid option {name}="):
        await load_document(payload, max_bytes=LIMIT, time_limit=5)


async def test_options_arrive_in_the_one_grammar_and_copies_count_the_qty() -> None:
    zpl = base64.b64encode(b"^XA^XZ").decode()
    payload = job("raw_base64", zpl).model_copy(
        update={"options": {"copies": 2, "pages": "1-2", "newer": 1}, "qty": 3}
    )
    document = await load_document(payload, max_bytes=LIMIT, time_limit=5)
    assert document.options.as_sent() == {"copies": 2, "pages": "1-2"}
    assert document.copies == 6


async def test_uri_is_downloaded(files: str) -> None:
    document = await load_document(
        job("pdf_uri", f"{files}/doc.pdf"), max_bytes=LIMIT, time_limit=5, allow_private=True
    )
    assert document.data == PDF


async def test_redirects_are_followed(files: str) -> None:
    assert (
        await download(f"{files}/redirect", max_bytes=LIMIT, time_limit=5, allow_private=True)
        == PDF
    )


async def test_a_document_of_exactly_the_limit_is_accepted_one_byte_more_is_not(
    files: str,
) -> None:
    exact = await download(f"{files}/exactly-the-limit", **PRIVATE_OK)
    assert len(exact) == LIMIT
    with pytest.raises(DownloadFailed, match="larger than the limit"):
        await download(f"{files}/one-byte-over", **PRIVATE_OK)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/page.html", "not a PDF"),
        ("/big", "limit"),
        ("/streamed-big", "larger than the limit"),
        ("/missing", "HTTP 404"),
        ("/to-ftp", "must start with http:// or https://"),
        ("/loop", "more than 5 redirects"),
        ("/gzipped", r"sent compressed \(gzip\)"),
    ],
)
async def test_bad_downloads_are_refused(files: str, path: str, reason: str) -> None:
    with pytest.raises(ContentError, match=reason):
        await load_document(job("pdf_uri", files + path), **PRIVATE_OK)


async def test_a_slow_download_is_given_up(files: str) -> None:
    with pytest.raises(DownloadFailed, match="took longer than 1 s"):
        await download(f"{files}/slow", max_bytes=LIMIT, time_limit=1, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/doc.pdf", "file:///etc/passwd"])
async def test_only_http_is_fetched(url: str) -> None:
    with pytest.raises(DownloadFailed, match="must start with http:// or https://") as refused:
        await download(url, **PRIVATE_OK)
    assert not isinstance(refused.value, DownloadRefused)  # no setting allows it


async def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(DownloadFailed, match="could not download"):
        await download("http://127.0.0.1:9/doc.pdf", **PRIVATE_OK)


# The address policy


async def test_localhost_is_refused_without_allow_private_urls_and_fetched_with_it(
    files: str,
) -> None:
    url = files.replace("127.0.0.1", "localhost") + "/doc.pdf"
    with pytest.raises(ContentError) as refused:
        await load_document(job("pdf_uri", url), max_bytes=LIMIT, time_limit=5)
    message = str(refused.value)
    assert message.startswith("refused to fetch the document from localhost: ")
    assert "not a public address" in message
    assert "allow_private_urls" in message

    document = await load_document(job("pdf_uri", url), **PRIVATE_OK)
    assert document.data == PDF


async def test_a_name_that_resolves_to_loopback_is_refused_without_allow_private_urls(
    files: str,
) -> None:
    url = files.replace("127.0.0.1", "printer-nas.test") + "/doc.pdf"
    with names_resolving_to({"printer-nas.test": "127.0.0.1"}):
        with pytest.raises(DownloadFailed) as refused:
            await download(url, max_bytes=LIMIT, time_limit=5, allow_private=False)
        assert await download(url, **PRIVATE_OK) == PDF
    message = str(refused.value)
    assert "printer-nas.test resolves to 127.0.0.1, which is not a public address" in message
    assert isinstance(refused.value, DownloadRefused)  # allowing private would let it


PUBLIC = "93.184.215.14"  # a global address; requests to it go to APP in process


async def test_a_redirect_to_a_private_address_is_refused_after_a_public_one() -> None:
    public = httpx.ASGITransport(APP)
    with names_resolving_to({"docs.example.com": PUBLIC}):
        assert (
            await download(
                "http://docs.example.com/redirect",
                max_bytes=LIMIT,
                time_limit=5,
                allow_private=False,
                transport=public,
            )
            == PDF
        )
        with pytest.raises(DownloadFailed) as refused:
            await download(
                "http://docs.example.com/to-private",
                max_bytes=LIMIT,
                time_limit=5,
                allow_private=False,
                transport=public,
            )
    message = str(refused.value)
    assert message.startswith("refused to fetch the document from 10.1.2.3: ")
    assert isinstance(refused.value, DownloadRefused)
