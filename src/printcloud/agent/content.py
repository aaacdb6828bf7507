"""A job's document: decoded from base64 or downloaded, and checked before printing."""

from __future__ import annotations

import time

import httpx
from pydantic import ValidationError

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.outbound import SafeResponse, UnsafeTarget, safe_request, url_problem
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
    allow_private: bool = False,
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
                job.content,
                max_bytes=max_bytes,
                time_limit=time_limit,
                allow_private=allow_private,
                transport=transport,
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


REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALLOW_PRIVATE_HINT = (
    "set allow_private_urls in the agent's configuration (or run `printcloud agent run "
    "--allow-private-urls`) to fetch documents from private addresses"
)


async def download(
    url: str,
    *,
    max_bytes: int,
    time_limit: float,
    allow_private: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> bytes:
    """GET ``url`` under ``printcloud.outbound``'s address policy (each redirect checked
    again, at most MAX_REDIRECTS), at most ``max_bytes``, within ``time_limit`` seconds
    in all."""
    deadline = time.monotonic() + time_limit
    for _ in range(MAX_REDIRECTS + 1):
        problem = url_problem(url, allow_private=True)  # what no setting allows
        if problem is not None:
            raise ContentError(f"cannot fetch the document from {url[:100]!r}: {problem}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ContentError(f"downloading the document took longer than {time_limit:g} s")
        try:
            response = await safe_request(
                "GET",
                url,
                timeout=remaining,
                allow_private=allow_private,
                max_response_bytes=max_bytes + 1,  # one more: to know it was too big
                transport=transport,
            )
        except UnsafeTarget as exc:  # the URL is well formed: its address is not public
            raise ContentError(
                f"refused to fetch the document from {_host(url)}: {exc}; {ALLOW_PRIVATE_HINT}"
            ) from None
        except httpx.TimeoutException:
            raise ContentError(
                f"downloading the document took longer than {time_limit:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ContentError(f"could not download the document: {exc}") from None
        location = response.headers.get("location")
        if response.status_code in REDIRECTS and location:
            url = str(httpx.URL(url).join(location))  # checked as the next request is made
            continue
        return _body(response, max_bytes)
    raise ContentError(f"more than {MAX_REDIRECTS} redirects")


def _body(response: SafeResponse, max_bytes: int) -> bytes:
    if response.status_code != 200:
        raise ContentError(f"downloading the document: HTTP {response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ContentError(f"the document is {declared} bytes; the limit is {max_bytes}")
    if len(response.body) > max_bytes:
        raise ContentError(f"the document is larger than the limit of {max_bytes} bytes")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # Asked for as it is (Accept-Encoding: identity): compressed bytes are not the
        # document, and raw data would go to the printer as they are.
        raise ContentError(f"the document was sent compressed ({encoding}), which is refused")
    return response.body


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url[:100]
    except httpx.InvalidURL:
        return url[:100]
