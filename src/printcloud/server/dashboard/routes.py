"""Mounting the dashboard on the app: its routers, its static files and the process's
thumbnail renderer."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from printcloud.server.dashboard import auth, live, pages, printer_page, recovery, users
from printcloud.server.dashboard.thumbnails import RenderLimits, Thumbnailer
from printcloud.server.dashboard.web import STATIC_DIR
from printcloud.server.settings import Settings

STATIC_PATH = "/dashboard/static"
# Every page and form of the dashboard (a test checks that each is an owner's or everyone's).
ROUTERS = (
    auth.router,
    pages.router,
    printer_page.router,
    users.router,
    recovery.router,
    live.router,
)


def mount(app: FastAPI, settings: Settings) -> None:
    app.state.thumbnailer = Thumbnailer(RenderLimits.from_settings(settings))
    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
