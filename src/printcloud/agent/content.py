"""A job's document: decoded from base64 or downloaded, and checked before printing."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from printcloud import outbound
from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.content import (
    ContentType,
    DocumentError,
    check_document,
    decode_base64,
)
from printcloud.protocol.messages import JobPayload
from printcloud.protocol.options import PrintOptions


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
            # Fetched by the office's computer under the server's own address policy.
            data = await outbound.download(
                job.content,
                max_bytes=max_bytes,
                time_limit=time_limit,
                allow_private=allow_private,
                transport=transport,
            )
        else:
            data = decode_base64(job.content)
        check_document(content_type, data, max_bytes=max_bytes)
    except outbound.DownloadFailed as exc:
        hint = f"; {ALLOW_PRIVATE_HINT}" if isinstance(exc, outbound.DownloadRefused) else ""
        raise ContentError(f"{exc}{hint}") from None
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


ALLOW_PRIVATE_HINT = (
    "set allow_private_urls in the agent's configuration (or run `printcloud agent run "
    "--allow-private-urls`) to fetch documents from private addresses"
)
