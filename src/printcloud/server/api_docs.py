"""``/api/docs``: the API reference from the package's own files.

FastAPI's default page loads Swagger UI from a CDN and its favicon from another site:
on the isolated networks self-hosting often means, the page stayed blank. Swagger UI
comes here with ``swagger-ui-bundle-v2`` (Apache-2.0, the connexion project's).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS = "/api/docs"
_ASSETS = DOCS + "/assets"


def install_api_docs(app: FastAPI) -> None:
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    app.mount(_ASSETS, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    @app.get(DOCS, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} reference",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
        )
