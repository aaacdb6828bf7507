"""Schemathesis checks of our own, loaded by the REST fuzz run (``SCHEMATHESIS_HOOKS``).

Schemathesis checks a 4xx body against the OpenAPI document only where that status is
documented for the operation; the contract is wider: every error, documented or not
(a 405, a 415), is ``{"code", "message"}`` JSON."""

from __future__ import annotations

import json

import schemathesis
from schemathesis import Case, CheckContext, Response


@schemathesis.check
def errors_are_code_and_message(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/json"):
        raise AssertionError(f"a {response.status_code} answered {content_type!r}, not JSON")
    body = json.loads(response.content)
    if not (
        isinstance(body, dict)
        and set(body) == {"code", "message"}
        and all(isinstance(value, str) and value for value in body.values())
    ):
        raise AssertionError(f"a {response.status_code} body is not {{code, message}}: {body!r}")
    return None
