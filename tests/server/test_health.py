"""``/healthz`` and ``/readyz``: what a load balancer asks (their outages are in
test_dependency_faults.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from printcloud.server.app import create_app
from printcloud.server.runtime import Runtime
from printcloud.server.settings import Settings
from tests.helpers.asgi_client import client_for


async def test_a_serving_instance_is_alive_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "accepting": "ok"},
    }


async def test_health_is_neither_authenticated_nor_rate_limited(
    runtime_factory: Callable[..., Runtime],
) -> None:
    async with client_for(create_app(runtime=runtime_factory(rate_limit="1/s"))) as client:
        for _ in range(5):
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/healthz")).status_code == 200


async def test_a_database_without_the_migrations_is_not_ready(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    runtime = Runtime.create(settings_factory(database_url=empty))
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            ready = await client.get("/readyz")
    finally:
        await runtime.close()
    assert ready.status_code == 503
    body = ready.json()
    assert body["code"] == "ServiceUnavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("not applied")
    assert "migrations" in body["message"]


async def test_an_instance_shutting_down_is_not_ready(app: FastAPI, runtime: Runtime) -> None:
    async with client_for(app) as client:
        runtime.dispatcher.stopping = True
        ready = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["accepting"] == "shutting down"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_is_not_part_of_the_api_reference(app: FastAPI, path: str) -> None:
    assert path not in app.openapi()["paths"]
