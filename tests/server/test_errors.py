"""Every failure a client can meet is ``{"code", "message"}`` with the right status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from printcloud.server.app import create_app
from tests.helpers.accounts import TestAccount
from tests.helpers.asgi_client import client_for


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert body["message"]
    return dict(body)


async def test_malformed_json_is_bad_request(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/printjobs",
        auth=account.auth(),
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    body = assert_error(response, 400, "BadRequest")
    assert "malformed JSON" in body["message"]


async def test_form_body_is_bad_request_with_a_hint(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post("/api/printjobs", auth=account.auth(), data={"printerId": "x"})
    body = assert_error(response, 400, "BadRequest")
    assert "Content-Type: application/json" in body["message"]


async def test_json_that_is_not_an_object_is_bad_request(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post("/api/webhooks", auth=account.auth(), json=[1, 2])
    assert_error(response, 400, "BadRequest")


async def test_unauthorized(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/computers"), 401, "Unauthorized")


async def test_unknown_route_is_not_found(client: httpx.AsyncClient, account: TestAccount) -> None:
    body = assert_error(await client.get("/api/nothing-here", auth=account.auth()), 404, "NotFound")
    assert body["message"] == "No such endpoint: GET /api/nothing-here"


async def test_wrong_method(client: httpx.AsyncClient, account: TestAccount) -> None:
    response = await client.put("/api/printjobs", auth=account.auth(), json={})
    assert_error(response, 405, "MethodNotAllowed")


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/printjobs", "GET, POST"),
        ("/api/printjobs/pj_1,pj_2", "GET, DELETE"),
        ("/api/webhooks/wh_1", "GET, DELETE"),
        ("/api/account/apikeys", "GET, POST"),
        ("/api/computers/cmp_1", "DELETE"),
    ],
)
async def test_a_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, account: TestAccount, path: str, allow: str
) -> None:
    """Not only those of the first route that matched: two routes serve these paths."""
    response = await client.request("OPTIONS", path, auth=account.auth())

    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["allow"] == allow


def test_the_openapi_document_says_login_answers_401_for_wrong_credentials(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/api/client/login"]["post"]["responses"]

    assert responses["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "403" not in responses


async def test_login_with_a_wrong_password_answers_its_documented_401(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.post(
        "/api/client/login", json={"email": account.user.email, "password": "wrong password"}
    )

    assert_error(response, 401, "Unauthorized")


async def test_body_over_the_limit_is_refused_before_it_is_read(
    runtime_factory: Any, account: TestAccount
) -> None:
    app = create_app(runtime=runtime_factory(max_body_size=1000))
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(100):
            chunks_sent += 1
            yield b"x" * 500

    async with client_for(app) as client:
        declared = await client.post(
            "/api/printjobs",
            auth=account.auth(),
            content=b"x" * 2000,
            headers={"Content-Type": "application/json"},
        )
        streamed = await client.post(
            "/api/printjobs",
            auth=account.auth(),
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
    assert_error(declared, 413, "PayloadTooLarge")
    assert_error(streamed, 413, "PayloadTooLarge")
    assert chunks_sent < 100


async def test_rate_limit_is_too_many_requests(runtime_factory: Any, account: TestAccount) -> None:
    app = create_app(runtime=runtime_factory(rate_limit="2/minute"))
    async with client_for(app) as client:
        for _ in range(2):
            assert (await client.get("/api/printers", auth=account.auth())).status_code == 200
        response = await client.get("/api/printers", auth=account.auth())
    assert_error(response, 429, "TooManyRequests")
    assert 1 <= int(response.headers["Retry-After"]) <= 30


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/api/test-failure")
    async def fail() -> None:
        raise RuntimeError("secret internal detail")

    return app


async def test_unexpected_error_is_a_plain_500(failing_app: FastAPI) -> None:
    with capture_logs() as logs:
        async with client_for(failing_app, raise_app_exceptions=False) as client:
            response = await client.get("/api/test-failure")
    body = assert_error(response, 500, "InternalServerError")
    assert body["message"] == "Internal server error"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    [logged] = [e for e in logs if e["event"] == "unhandled_exception"]  # but it is logged
    assert str(logged["exc_info"]) == "secret internal detail"
    assert logged["path"] == "/api/test-failure"


async def test_a_trailing_slash_serves_the_same_endpoint(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.get("/api/printers/", auth=account.auth())
    assert response.status_code == 200
    assert response.json() == []


async def test_browser_code_may_call_the_api_cors(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    preflight = await client.options(
        "/api/printjobs",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    response = await client.get(
        "/api/printers", auth=account.auth(), headers={"Origin": "https://shop.example.com"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
