"""A minimal, fast webhook receiver for the delivery benchmark, in a process of its own.

    .venv/bin/python -m bench.webhook_receiver --secret SECRET [--port 0]

Raw asyncio HTTP/1.1 (keep-alive, pipelining, Content-Length bodies; nothing else a
webhook sender needs), so that the benchmark measures the sender's cost and not a
web framework's. Every POST is checked as a Standard Webhooks receiver would: its
``webhook-signature`` verified with the secret (HMAC-SHA256), its ``webhook-id``
counted once (a second arrival of the same id is a duplicate, which at-least-once
delivery allows but the benchmark reports), and the ``jobId`` of its body compared
with the last one received on the same path: the benchmark numbers its events in
order (``pj_<n>``), so a smaller number than the last is an event out of order.

Prints ``port <n>`` on stdout once listening. ``GET /stats`` answers the counts as
JSON: received, verified, bad_signature, duplicates, out_of_order.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import cast

from printcloud.server.webhooks.signing import signing_key

_OK = b"HTTP/1.1 204 No Content\r\n\r\n"
_BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"


@dataclass
class Stats:
    received: int = 0
    verified: int = 0
    bad_signature: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    seen: set[str] = field(default_factory=set, repr=False)
    last: dict[str, int] = field(default_factory=dict, repr=False)

    def shown(self) -> bytes:
        counts = {k: v for k, v in asdict(self).items() if k not in ("seen", "last")}
        return json.dumps(counts).encode()


class Receiver(asyncio.Protocol):
    def __init__(self, key: bytes, stats: Stats) -> None:
        self._key = key
        self._stats = stats
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        answers = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self._buffer) < end + 4 + length:
                break  # the body is still coming
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            method, path, _ = head[0].split(" ", 2)
            if method == "GET" and path == "/stats":
                shown = self._stats.shown()
                answers.append(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(shown), shown)
                )
            else:
                answers.append(self._hook(path, headers, body))
        if answers and self._transport is not None:
            self._transport.write(b"".join(answers))

    def _hook(self, path: str, headers: dict[str, str], body: bytes) -> bytes:
        stats = self._stats
        stats.received += 1
        message_id = headers.get("webhook-id", "")
        signed = f"{message_id}.{headers.get('webhook-timestamp', '')}.".encode() + body
        expected = base64.b64encode(hmac.new(self._key, signed, hashlib.sha256).digest())
        given = [s.partition(",")[2].encode() for s in headers.get("webhook-signature", "").split()]
        if not any(hmac.compare_digest(expected, s) for s in given):
            stats.bad_signature += 1
            return _BAD
        stats.verified += 1
        if message_id in stats.seen:
            stats.duplicates += 1
        stats.seen.add(message_id)
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            number = int(json.loads(body)["jobId"].removeprefix("pj_"))
            if number < stats.last.get(path, -1):
                stats.out_of_order += 1
            stats.last[path] = number
        return _OK


async def main(secret: str, port: int) -> None:
    key = signing_key(secret)
    stats = Stats()
    server = await asyncio.get_running_loop().create_server(
        lambda: Receiver(key, stats), "127.0.0.1", port, backlog=1024
    )
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        uvloop = None
    with contextlib.suppress(KeyboardInterrupt):
        if uvloop is not None:
            uvloop.run(main(arguments.secret, arguments.port))
        else:
            asyncio.run(main(arguments.secret, arguments.port))
    sys.exit(0)
