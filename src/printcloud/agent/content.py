"""A job's document: decoded from base64 or downloaded, and checked before printing."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.content import (
    ContentType,
    DocumentError,
    check_document,
    decode_base64,
)
from printcloud.protocol.messages import JobPayload
from printcloud.protocol.options import PrintOptions

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
    try:
        content_type = ContentType(job.content_type)
    except ValueError:
        raise ContentError(f"unknown content type {job.content_type!r}") from None
    options = read_options(job.options)
    try:
        if content_type.is_uri:
            data = await download(
                job.content, max_bytes=max_bytes, time_limit=time_limit, transport=transport
            )
        else:
            data = decode_base64(job.content)
        check_document(content_type, data, max_bytes=max_bytes)
    except DocumentError as exc:
        raise ContentError(str(exc)) from None
    return Document(
        job_id=job.id,
        title=job.title,
        data=data,
        is_pdf=content_type.is_pdf,
        options=options,
        copies_of_job=job.qty,
    )


def read_options(options: dict[str, object]) -> PrintOptions:
    """The job's options in the one grammar; an invalid value fails the job rather than
    print something other than what was asked (a newer server's option is ignored)."""
    try:
        return PrintOptions.model_validate(options)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        raise ContentError(
            f"invalid option {name}={error.get('input')!r}: {error['msg']}"
        ) from None


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
