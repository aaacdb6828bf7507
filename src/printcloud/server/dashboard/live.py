"""Live updates: the account's events, streamed to the open dashboard (Server-Sent Events).

The events table (the outbox the webhooks read) is the source of truth, read by
``seq`` cursor at a short interval: any instance of a cluster serves any browser,
whichever instance made the change. The browser resumes where it stopped with
the standard ``Last-Event-ID`` header.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from printcloud.server.dashboard import i18n, job_words, repository, sessions
from printcloud.server.dashboard.sessions import WebLogin
from printcloud.server.dashboard.web import DashboardRoute, LoginDep
from printcloud.server.deps import PortsDep
from printcloud.server.ports import Ports

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

_BATCH = 200
_KEEPALIVE = 15.0  # seconds: proxies close connections that stay silent
_RECHECK_SESSION = 10.0  # seconds: a logged-out session stops receiving soon after


def _cursor(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def _stream(
    request: Request, ports: Ports, login: WebLogin, cursor: int
) -> AsyncIterator[str]:
    interval = ports.settings.dashboard_live_interval
    t = i18n.translator(i18n.language(request))
    quiet = 0.0
    since_check = 0.0
    yield "retry: 2000\n\n"
    while not await request.is_disconnected():
        # A short session per poll: never hold a database connection while waiting.
        async with ports.database.sessionmaker() as session:
            events = await repository.events_after(session, login.account_id, cursor, _BATCH)
            if since_check >= _RECHECK_SESSION:
                since_check = 0.0
                if not await sessions.still_valid(session, login):
                    return
        for event in events:
            cursor = event.seq
            yield f"id: {event.seq}\ndata: {json.dumps(_shown(event.payload, t))}\n\n"
        if events:
            quiet = 0.0
            if len(events) == _BATCH:
                continue  # more are waiting
        elif quiet >= _KEEPALIVE:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(interval)
        quiet += interval
        since_check += interval


def _shown(payload: dict[str, Any], t: i18n.Translator) -> dict[str, Any]:
    """The event as the page shows it: a job's history message in the page's language."""
    message = payload.get("message")
    if isinstance(message, str) and message:
        return {**payload, "message": job_words.history_message(t, message)}
    return payload


@router.get("/dashboard/events")
async def events(request: Request, login: LoginDep, ports: PortsDep) -> StreamingResponse:
    cursor = _cursor(request)
    if cursor is None:  # a fresh page gives its cursor; without one, start from now
        async with ports.database.sessionmaker() as session:
            cursor = await repository.last_event_seq(session, login.account_id)
    return StreamingResponse(
        _stream(request, ports, login, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
