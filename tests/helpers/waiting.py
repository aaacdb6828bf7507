"""Waiting for what another task or process does, as its user would see it.

A wait here is for something to happen, with a deadline for when it does not: it
takes as long as the machine needs and no longer. To show that something did *not*
happen, call the function that would have done it instead (``deliver_due``,
``sweep``, ``prune``) and assert what it did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float = 10.0, interval: float = 0.05
) -> T:
    """``check()``'s first truthy answer, asked again every ``interval`` seconds; the
    test fails when there is none within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"still nothing after {timeout:g} s")
        await asyncio.sleep(interval)
