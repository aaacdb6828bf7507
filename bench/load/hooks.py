"""The webhook receiver: every delivery's Standard Webhooks signature is verified.

Each bench account's webhook points at ``/<account index>``, so the receiver knows
which secret to verify with (never the secret the request itself carries).
It runs in the generator's process and event loop, on uvicorn like the server.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class HookLog:
    completed: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Every verified delivery of a job event: (state, monotonic_ns received).
    jobs: defaultdict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    states: Counter[str] = field(default_factory=Counter)
    verified: int = 0
    failed: int = 0


class Receiver:
    """A bare ASGI app: the least a receiver can cost the generator's CPU."""

    def __init__(self) -> None:
        self.log = HookLog()
        self.verifiers: dict[str, Webhook] = {}

    def add_secret(self, index: int, secret: str) -> None:
        self.verifiers[str(index)] = Webhook(secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        at = time.monotonic_ns()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        verifier = self.verifiers.get(scope["path"].strip("/"))
        try:
            event = verifier.verify(body, headers) if verifier else None
        except WebhookVerificationError:
            event = None
        if event is None:
            self.log.failed += 1
            await _answer(send, 400)
            return
        self.log.verified += 1
        self.log.states[event.get("state", "?")] += 1
        if "jobId" in event:
            self.log.jobs[event["jobId"]].append((event.get("state", "?"), at))
        if event.get("type") == "job.state" and event.get("state") == "completed":
            self.log.completed[event["jobId"]].append(at)
        await _answer(send, 204)


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
