"""The server downloads a ``*_uri`` document for a client that does not fetch documents
itself (a client written from the original document: it handles ``*_base64`` only).

After the job was accepted, never inside the request; through the one safe-outbound
module, with the server's size limit, timeout and address policy. The document is
stored beside the job's URI and sent as ``pdf_base64``/``raw_base64``; a download that
fails ends the job ``error`` with the reason. Redirects are followed, each checked.
"""

from __future__ import annotations

import base64

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.outbound import ClientPool, UnsafeTarget, safe_request
from printcloud.protocol.content import ContentType, DocumentError, check_document
from printcloud.protocol.job_states import JobState
from printcloud.server import effects
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import repository
from printcloud.server.jobs.service import move_job
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

MAX_REDIRECTS = 5


class DownloadFailed(Exception):
    """The document could not be had; the message is the job's error."""


async def download_document(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    job_seq: int,
    clients: ClientPool | None = None,
) -> bool:
    """Download the waiting job's document and store it, or end the job ``error``.

    True when the document is stored; False when it failed or there was nothing to do
    (the job moved on, was deleted, or was downloaded already). Its computer is woken
    either way once that is committed.
    """
    async with unit_of_work(sessionmaker) as session:
        found = await repository.document_to_download(session, job_seq)
    if found is None:
        return False
    job, url = found
    content_type = ContentType(job.content_type)
    try:
        data = await _get(url, settings, clients)
        check_document(content_type, data, max_bytes=settings.max_document_size)
    except (DownloadFailed, DocumentError) as exc:
        log.info("document_download_failed", job_id=job.id, error=str(exc))
        async with unit_of_work(sessionmaker) as session:
            await move_job(
                session, job, JobState.ERROR, f"The server could not download the document: {exc}"
            )
        return False
    async with unit_of_work(sessionmaker) as session:
        await repository.set_downloaded(session, job_seq, base64.b64encode(data).decode("ascii"))
        computer_id = await repository.computer_of(session, job_seq)
        effects.wake_computer(session, computer_id)
    log.info("document_downloaded", job_id=job.id, bytes=len(data))
    return True


async def _get(url: str, settings: Settings, clients: ClientPool | None) -> bytes:
    limit = settings.max_document_size
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = await safe_request(
                "GET",
                url,
                timeout=settings.document_download_timeout,
                allow_private=settings.allow_private_urls,
                max_response_bytes=limit + 1,
                clients=clients,
            )
        except UnsafeTarget as exc:
            raise DownloadFailed(f"refused {url[:200]}: {exc}") from None
        except httpx.TimeoutException:
            raise DownloadFailed(
                f"no answer within {settings.document_download_timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise DownloadFailed(f"{type(exc).__name__}: {exc}") from None
        location = response.headers.get("location")
        if 300 <= response.status_code < 400 and location:
            url = str(httpx.URL(url).join(location))
            continue
        if response.status_code != 200:
            raise DownloadFailed(f"HTTP {response.status_code} from {url[:200]}")
        if len(response.body) > limit:
            raise DownloadFailed(f"the document is larger than the limit of {limit} bytes")
        return response.body
    raise DownloadFailed(f"more than {MAX_REDIRECTS} redirects")
