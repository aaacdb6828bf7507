"""Mounting the dashboard on the app: its routers and its static files."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from printcloud.server.dashboard import auth, live, pages
from printcloud.server.dashboard.web import STATIC_DIR

STATIC_PATH = "/dashboard/static"


def mount(app: FastAPI) -> None:
    for router in (auth.router, pages.router, live.router):
        app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
