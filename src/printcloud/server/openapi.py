"""The published OpenAPI document: the real error shape and HTTP Basic security."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_NO_AUTH = {("/api/client/login", "post")}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "apiKey": {
                "type": "http",
                "scheme": "basic",
                "description": "The API key as the user name, an empty password",
            }
        }
        schema["security"] = [{"apiKey": []}]
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                # Invalid input is answered 400 with {"code", "message"}, never FastAPI's
                # 422 (a route's own 422, such as an Idempotency-Key's, stays).
                responses = operation.get("responses", {})
                if "HTTPValidationError" in str(responses.get("422", "")):
                    del responses["422"]
                if (path, method) in _NO_AUTH:
                    operation["security"] = []
                    operation["responses"].pop("403", None)
                    operation["responses"]["401"] = {
                        **operation["responses"]["401"],
                        "description": "Unauthorized: wrong e-mail or password",
                    }
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"].get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
