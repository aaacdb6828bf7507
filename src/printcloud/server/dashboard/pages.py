"""The account's pages: overview, jobs, test page, keys, webhooks, connecting a computer.

Every user sees and prints; the keys and webhooks are the owners' (``OwnerDep``).

Everything goes through the same services as the REST API, with the session's
account, so the dashboard can reach exactly what that account's API keys can.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from printcloud.protocol.content import ContentType
from printcloud.protocol.events import ALL_EVENTS, SUBSCRIBABLE
from printcloud.protocol.job_states import JobState
from printcloud.server.accounts import service as accounts
from printcloud.server.accounts.permissions import Permission
from printcloud.server.computers import service as computers
from printcloud.server.dashboard import deliveries, i18n, repository
from printcloud.server.dashboard.testpage import make_test_page
from printcloud.server.dashboard.thumbnails import Thumbnailer
from printcloud.server.dashboard.web import (
    DashboardRoute,
    LoginDep,
    OwnerDep,
    PostLoginDep,
    PostOwnerDep,
    render,
)
from printcloud.server.db.types import utcnow
from printcloud.server.deps import SessionDep, SettingsDep
from printcloud.server.errors import BadRequest, NotFound
from printcloud.server.install import one_liners, server_url
from printcloud.server.jobs import service as jobs
from printcloud.server.jobs.schemas import PrintJobIn
from printcloud.server.webhooks import service as webhooks
from printcloud.server.webhooks.schemas import WebhookIn

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PAGE_SIZE = 25
# A page of an event log, not a wall of rows: the newest, and a link to older ones.
DELIVERIES_PAGE = 20
JOB_STATES = [s.value for s in JobState]
WEBHOOK_EVENTS = [str(e) for e in SUBSCRIBABLE]


@router.get("/")
async def overview(request: Request, login: LoginDep, session: SessionDep) -> Response:
    since = utcnow() - timedelta(days=1)
    counts = await repository.job_counts_since(session, login.account_id, since)
    return render(
        request,
        "overview.html",
        login=login,
        computers=await computers.list_computers(session, login.account_id),
        counts=counts,
        total=sum(counts.values()),
        states=JOB_STATES,
        recent=await repository.jobs_page(
            session, login.account_id, state=None, printer_id=None, before_seq=None, limit=10
        ),
        cursor=await repository.last_event_seq(session, login.account_id),
        notice=request.query_params.get("sent"),
    )


@router.get("/jobs")
async def job_list(
    request: Request,
    *,
    login: LoginDep,
    session: SessionDep,
    state: str = "",
    printer: str = "",
    before: str = "",
) -> Response:
    state = state if state in JOB_STATES else ""
    before_seq = None
    if before:
        older_than = await repository.job(session, login.account_id, before)
        if older_than is None:
            raise NotFound(f"Print job {before} not found")
        before_seq = older_than.seq
    rows = await repository.jobs_page(
        session,
        login.account_id,
        state=state or None,
        printer_id=printer or None,
        before_seq=before_seq,
        limit=PAGE_SIZE + 1,  # one more tells whether there is an older page
    )
    return render(
        request,
        "jobs.html",
        login=login,
        jobs=rows[:PAGE_SIZE],
        older=rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        state=state,
        printer=printer,
        states=JOB_STATES,
        printers=await computers.list_printers(session, login.account_id),
        cursor=await repository.last_event_seq(session, login.account_id),
    )


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str, login: LoginDep, session: SessionDep) -> Response:
    job = await repository.job(session, login.account_id, job_id)
    if job is None:
        raise NotFound(f"Print job {job_id} not found")
    return render(
        request,
        "job.html",
        login=login,
        job=job,
        history=await jobs.states(session, login.account_id, job_id),
        previewable=job.content_type == ContentType.PDF_BASE64.value,
        cursor=await repository.last_event_seq(session, login.account_id),
    )


async def _thumbnailer(request: Request) -> Thumbnailer:
    thumbnailer = request.app.state.thumbnailer
    assert isinstance(thumbnailer, Thumbnailer)
    return thumbnailer


@router.get("/jobs/{job_id}/thumbnail.png")
async def job_thumbnail(
    job_id: str,
    login: LoginDep,
    session: SessionDep,
    thumbnailer: Annotated[Thumbnailer, Depends(_thumbnailer)],
) -> Response:
    job = await repository.job(session, login.account_id, job_id)
    if job is None or job.content_type != ContentType.PDF_BASE64.value:
        raise NotFound(f"No preview for print job {job_id}")
    content = await repository.job_content(session, login.account_id, job_id)
    # Rendering takes a while: let the database connection go first (SQLite has one).
    await session.commit()
    # A PDF from a URI is not fetched: the server never downloads customers' documents.
    with structlog.contextvars.bound_contextvars(job_id=job_id):
        png = await thumbnailer.first_page_png(content or "")
    if png is None:
        raise NotFound(f"No preview for print job {job_id}")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/printers/{printer_id}/test-page")
async def print_test_page(
    request: Request,
    printer_id: str,
    login: PostLoginDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    printer = (await computers.list_printers(session, login.account_id, [printer_id]))[0]
    computer_name = next(
        (
            c.name
            for c in await computers.list_computers(session, login.account_id)
            if c.id == printer.computer_id
        ),
        "",
    )
    t = i18n.translator(i18n.language(request))
    pdf = make_test_page(printer.name, computer_name, utcnow())
    body = PrintJobIn.model_validate(
        {
            "printerId": printer.id,
            "contentType": ContentType.PDF_BASE64.value,
            "content": base64.b64encode(pdf).decode(),
            "title": t("printer.test_title"),
        }
    )
    job_id = await jobs.submit_job(session, settings, login.account_id, body)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/keys")
async def key_list(request: Request, login: OwnerDep, session: SessionDep) -> Response:
    return await _keys_page(request, login, session)


async def _keys_page(
    request: Request, login: OwnerDep, session: SessionDep, **context: Any
) -> Response:
    return render(
        request,
        "keys.html",
        login=login,
        keys=await accounts.api_keys(session, login.account_id),
        permissions=[p.value for p in Permission],
        **context,
    )


@router.post("/keys")
async def create_key(
    request: Request,
    login: PostOwnerDep,
    session: SessionDep,
    description: str = Form("", max_length=200),
    permission: str = Form("full"),
) -> Response:
    try:
        chosen = Permission(permission)
    except ValueError as exc:
        raise BadRequest(f"permission: {permission!r} is not a permission") from exc
    row, secret = await accounts.create_api_key(
        session, account_id=login.account_id, description=description, permission=chosen
    )
    # Shown in this response only: never stored, never rendered again.
    return await _keys_page(request, login, session, new_key=secret, new_key_id=row.id)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    await accounts.revoke_api_key(session, login.account_id, key_id)
    return await _keys_page(request, login, session, notice_key="keys.revoked_done")


@router.get("/webhooks")
async def webhook_list(request: Request, login: OwnerDep, session: SessionDep) -> Response:
    return await _webhooks_page(request, login, session)


async def _webhooks_page(
    request: Request,
    login: OwnerDep,
    session: SessionDep,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        "webhooks.html",
        login=login,
        status_code=status_code,
        webhooks=await webhooks.list_webhooks(session, login.account_id),
        events=WEBHOOK_EVENTS,
        checked_event=ALL_EVENTS,
        **context,
    )


@router.post("/webhooks")
async def create_webhook(
    request: Request, login: PostOwnerDep, session: SessionDep, settings: SettingsDep
) -> Response:
    form = await request.form()
    url = str(form.get("url", ""))
    chosen = [str(e) for e in form.getlist("events") if str(e) in WEBHOOK_EVENTS]
    try:
        body = WebhookIn.model_validate({"url": url, "events": chosen})
        webhook, generated = await webhooks.create(
            session, login.account_id, body, allow_private_urls=settings.allow_private_urls
        )
    except ValidationError:
        return await _webhooks_page(
            request, login, session, status_code=400, error_key="webhooks.pick_event", url=url
        )
    except BadRequest as exc:
        return await _webhooks_page(
            request, login, session, status_code=400, error=exc.message, url=url
        )
    return await _webhooks_page(
        request, login, session, new_secret=webhook.secret if generated else None
    )


@router.get("/webhooks/{webhook_id}")
async def webhook_page(
    request: Request, webhook_id: str, login: OwnerDep, session: SessionDep, after: str = ""
) -> Response:
    webhook = await webhooks.get(session, login.account_id, webhook_id)
    rows = await webhooks.list_deliveries(
        session,
        login.account_id,
        webhook_id,
        DELIVERIES_PAGE + 1,  # one more tells whether there is an older page
        after or None,
    )
    shown = rows[:DELIVERIES_PAGE]
    now = utcnow()
    return render(
        request,
        "webhook.html",
        login=login,
        webhook=webhook,
        deliveries=[deliveries.view(d, webhook_active=webhook.active, now=now) for d in shown],
        older=shown[-1].id if len(rows) > DELIVERIES_PAGE else None,
        paged=bool(after),
        notice_key=request.query_params.get("done"),
        cursor=await repository.last_event_seq(session, login.account_id),
    )


@router.post("/webhooks/{webhook_id}/test")
async def send_test_event(webhook_id: str, login: PostOwnerDep, session: SessionDep) -> Response:
    await webhooks.send_test_event(session, login.account_id, webhook_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=test_sent", status_code=303)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
async def replay_delivery(
    webhook_id: str, delivery_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    await webhooks.replay(session, login.account_id, webhook_id, delivery_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=replayed", status_code=303)


@router.post("/webhooks/{webhook_id}/enable")
async def enable_webhook(webhook_id: str, login: PostOwnerDep, session: SessionDep) -> Response:
    await webhooks.enable(session, login.account_id, webhook_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=enabled", status_code=303)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(
    request: Request, webhook_id: str, login: PostOwnerDep, session: SessionDep
) -> Response:
    await webhooks.delete(session, login.account_id, webhook_id)
    return await _webhooks_page(request, login, session, notice_key="webhooks.deleted")


@router.get("/connect")
async def connect(request: Request, login: LoginDep, session: SessionDep) -> Response:
    user = await accounts.user_by_id(session, login.user_id)
    assert user is not None  # the session row is deleted with its user
    server = server_url(request)
    return render(
        request,
        "connect.html",
        login=login,
        server=server,
        install=one_liners(server),
        user_email=user.email,
    )
