"""The verifying webhook receiver in a process of its own.

    python -m bench.lifecycle.receiver PORT

In the driver's process it would take CPU from the submitters and agents, and its
verification (HMAC, JSON) from whichever of them the event loop served first. It is
``bench.load.hooks.Receiver`` under uvicorn, plus control paths under ``/_bench/``:
``POST /_bench/secrets`` (``{"<account index>": "whsec_..."}``), ``GET /_bench/count``
(cheap, for polling), ``GET /_bench/stats`` (every verified job delivery) and
``GET /_bench/completed?after=N`` (the jobs whose ``completed`` delivery was verified,
from the N-th on; it waits up to a second for one when there is none yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn
from bench.load.hooks import Receive, Receiver, Scope, Send

CONTROL = "/_bench/"


class ControlledReceiver:
    """The receiver, told its secrets and asked its counts over HTTP."""

    def __init__(self) -> None:
        self.receiver = Receiver()
        # Jobs in the order their first ``completed`` delivery was verified.
        self.completed: list[str] = []
        self._more = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CONTROL):
            known = len(self.receiver.log.completed)
            await self.receiver(scope, receive, send)
            if len(self.receiver.log.completed) > known:
                self.completed.append(next(reversed(self.receiver.log.completed)))
                self._more.set()
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        log = self.receiver.log
        answer: Any
        match scope["path"][len(CONTROL) :]:
            case "secrets":
                for index, secret in json.loads(body).items():
                    self.receiver.add_secret(int(index), secret)
                answer = {"secrets": len(self.receiver.verifiers)}
            case "count":
                answer = {"verified": log.verified, "failed": log.failed}
            case "stats":
                answer = {
                    "verified": log.verified,
                    "failed": log.failed,
                    "states": dict(log.states),
                    "jobs": log.jobs,
                }
            case "completed":
                after = int(parse_qs(scope["query_string"].decode()).get("after", ["0"])[0])
                if after >= len(self.completed):
                    self._more.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._more.wait(), 1.0)
                answer = self.completed[after:]
            case _:
                answer = {"error": "unknown control path"}
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class ReceiverClient:
    """The driver's side: where the receiver listens, and its control calls."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid
        self._client = httpx.AsyncClient(base_url=url + CONTROL, timeout=60)

    async def add_secrets(self, secrets: dict[int, str]) -> None:
        response = await self._client.post("secrets", json={str(i): s for i, s in secrets.items()})
        response.raise_for_status()

    async def count(self) -> dict[str, int]:
        response = await self._client.get("count")
        response.raise_for_status()
        return dict(response.json())

    async def completed(self, after: int) -> list[str]:
        response = await self._client.get("completed", params={"after": after})
        response.raise_for_status()
        return list(response.json())

    async def stats(self) -> dict[str, Any]:
        response = await self._client.get("stats")
        response.raise_for_status()
        return dict(response.json())

    async def aclose(self) -> None:
        await self._client.aclose()


if __name__ == "__main__":
    uvicorn.run(
        ControlledReceiver(),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
