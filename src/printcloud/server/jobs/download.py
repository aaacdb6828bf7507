"""The server downloads a ``*_uri`` document for a client that does not fetch documents
itself (a client written from the original document: it handles ``*_base64`` only).

After the job was accepted, never inside the request; through the one safe-outbound
module, with the server's size limit, timeout and address policy. The document is
stored beside the job's URI and sent as ``pdf_base64``/``raw_base64``; a download that
fails ends the job ``error`` with the reason. Redirects are followed, each checked.
"""

from __future__ import annotations

import base64

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from printcloud.outbound import ClientPool, DownloadFailed, download
from printcloud.protocol.content import ContentType, DocumentError, check_document
from printcloud.protocol.job_states import JobState
from printcloud.server import effects
from printcloud.server.db.uow import unit_of_work
from printcloud.server.jobs import repository
from printcloud.server.jobs.service import move_job
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)


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
        data = await download(
            url,
            max_bytes=settings.max_document_size,
            time_limit=settings.document_download_timeout,
            allow_private=settings.allow_private_urls,
            clients=clients,
        )
        check_document(content_type, data, max_bytes=settings.max_document_size)
    except (DownloadFailed, DocumentError) as exc:
        log.info("document_download_failed", job_id=job.id, error=str(exc))
        async with unit_of_work(sessionmaker) as session:
            await move_job(
                session, job, JobState.ERROR, f"The server could not get the document: {exc}"
            )
        return False
    async with unit_of_work(sessionmaker) as session:
        await repository.set_downloaded(session, job_seq, base64.b64encode(data).decode("ascii"))
        computer_id = await repository.computer_of(session, job_seq)
        effects.wake_computer(session, computer_id)
    log.info("document_downloaded", job_id=job.id, bytes=len(data))
    return True
