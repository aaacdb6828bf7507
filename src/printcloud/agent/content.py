"""A job's document: decoded from base64 or downloaded, and checked before printing."""

from __future__ import annotations

import base64
import binascii
import re
import time
from urllib.parse import urlsplit

import httpx

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.messages import JobPayload

_WHITESPACE = re.compile(rb"\s+")
_PDF_HEADER_WINDOW = 1024
MAX_REDIRECTS = 5


class ContentError(PrintFailed):
    """The document could not be had, or is not what the job says it is."""


async def load_document(
    job: JobPayload,
    *,
    max_bytes: int,
    time_limit: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Document:
    is_pdf = job.content_type.startswith("pdf_")
    if job.content_type.endswith("_base64"):
        data = _decode(job.content)
    elif job.content_type.endswith("_uri"):
        data = await download(
            job.content, max_bytes=max_bytes, time_limit=time_limit, transport=transport
        )
    else:
        raise ContentError(f"unknown content type {job.content_type!r}")
    if not data:
        raise ContentError("the document is empty")
    if len(data) > max_bytes:
        raise ContentError(f"the document is {len(data)} bytes; the limit is {max_bytes}")
    if is_pdf and b"%PDF-" not in data[:_PDF_HEADER_WINDOW]:
        raise ContentError("the document is not a PDF (no %PDF- header)")
    return Document(
        job_id=job.id,
        title=job.title,
        data=data,
        is_pdf=is_pdf,
        options=dict(job.options),
        copies_of_job=job.qty,
    )


def _decode(content: str) -> bytes:
    try:
        return base64.b64decode(_WHITESPACE.sub(b"", content.encode("ascii")), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ContentError("the document is not valid base64") from None


def _check_scheme(url: str) -> None:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ContentError(f"only http and https documents are fetched, not {url[:100]!r}")


async def download(
    url: str,
    *,
    max_bytes: int,
    time_limit: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> bytes:
    """GET ``url``, following a few redirects (each re-checked), within size and time."""
    deadline = time.monotonic() + time_limit
    async with httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(time_limit), follow_redirects=False
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(url)
            try:
                body = await _fetch_once(client, url, max_bytes, deadline)
            except httpx.HTTPError as exc:
                raise ContentError(f"could not download the document: {exc}") from None
            if isinstance(body, bytes):
                return body
            url = body  # a redirect's target
    raise ContentError(f"more than {MAX_REDIRECTS} redirects")


async def _fetch_once(
    client: httpx.AsyncClient, url: str, max_bytes: int, deadline: float
) -> bytes | str:
    async with client.stream("GET", url) as response:
        if response.is_redirect and "location" in response.headers:
            return str(response.url.join(response.headers["location"]))
        if response.status_code != 200:
            raise ContentError(f"downloading the document: HTTP {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ContentError(f"the document is {declared} bytes; the limit is {max_bytes}")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ContentError(f"the document is larger than the limit of {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise ContentError("downloading the document took too long")
            chunks.append(chunk)
        return b"".join(chunks)
