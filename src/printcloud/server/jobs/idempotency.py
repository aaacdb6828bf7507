"""``Idempotency-Key`` on POST /api/printjobs: the same key within 24 h is the same job.

A client that did not hear the answer to its POST (a timeout, a dropped connection)
sends it again with the same key and gets the job id of the first, instead of a
second print. The same key with a different body is a client's bug (a key reused
for another invoice), answered 422 as the IETF draft and Stripe do, rather than
silently with a job that is not the one asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from printcloud.server import effects
from printcloud.server.db.models import IdempotencyKey
from printcloud.server.db.types import utcnow
from printcloud.server.errors import BadRequest, UnprocessableContent

WINDOW = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as in HTTP header values


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise BadRequest("Idempotency-Key: use 1 to 255 visible ASCII characters")
    return key


_MISMATCH = (
    "Idempotency-Key: this key was used within the last 24 hours for a different job;"
    " use a new key for each job"
)


def fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


async def _known(session: AsyncSession, account_id: str, key: str, fingerprint: str) -> str | None:
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.created_at < utcnow() - WINDOW:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.seq == row.seq))
        await session.flush()
        return None
    if row.fingerprint is not None and row.fingerprint != fingerprint:
        raise UnprocessableContent(_MISMATCH)
    return row.job_id


async def once(
    session: AsyncSession,
    account_id: str,
    key: str,
    fingerprint: str,
    create: Callable[[], Awaitable[str]],
) -> tuple[str, bool]:
    """The job id for ``key``: the earlier one, or ``create()``'s. And whether it is new.
    ``fingerprint`` tells the request's body: the same key with another is refused."""
    earlier = await _known(session, account_id, key, fingerprint)
    if earlier is not None:
        return earlier, False
    job_id = await create()
    session.add(
        IdempotencyKey(
            account_id=account_id,
            key=key,
            job_id=job_id,
            fingerprint=fingerprint,
            created_at=utcnow(),
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        # The same key at the same moment from another request: it won. Undo ours, and
        # what ours asked to happen after its commit.
        await session.rollback()
        effects.discard(session)
        winner = await _known(session, account_id, key, fingerprint)
        if winner is None:
            raise
        return winner, False
    return job_id, True
