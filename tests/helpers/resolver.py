"""Host names of a test's own, resolved the way ``/etc/hosts`` would resolve them.

``printcloud.outbound`` resolves names with the running loop's ``getaddrinfo``; within
``names_resolving_to`` the loop answers the names given with their addresses (and
every other name as usual), so a test can make a name lead to loopback, or to a
public address, without touching the machine's resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def names_resolving_to(names: dict[str, str]) -> Iterator[None]:
    """Within the block, each of ``names`` resolves to its IPv4 address on this loop."""
    loop = asyncio.get_running_loop()
    resolve = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (names[name], port))
            ]
        return await resolve(host, port, *args, **kwargs)

    loop.getaddrinfo = getaddrinfo  # type: ignore[method-assign]
    try:
        yield
    finally:
        del loop.getaddrinfo  # the class's own again
