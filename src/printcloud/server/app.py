"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from printcloud._version import __version__
from printcloud.server.accounts.routes import router as accounts_router
from printcloud.server.agents.socket import AgentSockets
from printcloud.server.api_docs import install_api_docs
from printcloud.server.computers.routes import router as computers_router
from printcloud.server.dashboard.routes import mount as mount_dashboard
from printcloud.server.errors import install_error_handlers
from printcloud.server.exposition import router as metrics_router
from printcloud.server.health import router as health_router
from printcloud.server.install import install_router
from printcloud.server.ipp import ipp_router
from printcloud.server.jobs.fast_route import FastJobRoute
from printcloud.server.jobs.routes import router as jobs_router
from printcloud.server.middleware import BodySizeLimit, StripTrailingSlash
from printcloud.server.openapi import install_openapi
from printcloud.server.parameters import refuse_nul_parameters
from printcloud.server.printnode import router as printnode_router
from printcloud.server.runtime import Runtime
from printcloud.server.schemas import ErrorBody
from printcloud.server.settings import Settings
from printcloud.server.webhooks.routes import router as webhooks_router

_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "BadRequest: invalid parameters, malformed JSON, bad base64, bad URI"),
        (401, "Unauthorized: API key missing, invalid or revoked"),
        (403, "Forbidden: the key's permission does not allow this"),
        (404, "NotFound: no such object in this account"),
        (413, "PayloadTooLarge: body or document over the configured limit"),
        (429, "TooManyRequests: rate limit; see Retry-After"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable: the database is not answering; see Retry-After"),
    ]
}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. The database must already be migrated (``printcloud serve`` does it)."""
    runtime = runtime or Runtime.create(settings or Settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="PrintCloud API",
        version=__version__,
        description="Print from a web application to the printers in your customers' "
        "offices. Authenticate with HTTP Basic: the API key as the user name, "
        "an empty password.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # install_api_docs: no CDN
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
        responses=_ERROR_RESPONSES,
        dependencies=[Depends(refuse_nul_parameters)],
    )
    app.state.ports = runtime.ports
    app.state.runtime = runtime  # the server's shutdown lets its agents go first
    app.state.readiness = runtime.readiness
    install_error_handlers(app)
    install_openapi(app)
    install_api_docs(app)
    for router in (computers_router, jobs_router, webhooks_router, accounts_router):
        app.include_router(router)
    app.include_router(install_router())
    app.include_router(health_router)
    app.include_router(printnode_router)
    app.include_router(ipp_router())
    app.include_router(metrics_router)
    mount_dashboard(app, runtime.settings)
    if runtime.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=runtime.settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    app.add_middleware(BodySizeLimit, limit=runtime.settings.max_body_size)
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(FastJobRoute, ports=runtime.ports, intake=runtime.intake)
    return app


def served(app: FastAPI) -> ASGIApp:
    """What uvicorn serves: ``/ws`` answered ahead of FastAPI itself (see
    ``AgentSockets``), everything else, the lifespan included, by the app."""
    runtime: Runtime = app.state.runtime
    return AgentSockets(app, ports=runtime.agent_ports)
