"""Giving the memory of a large document back to the operating system once it is printed.

A 30 MB PDF passes through the agent as a 40 MB JSON message, its base64 text and its
bytes. Python frees them, but glibc's allocator keeps the freed pages for the process,
so an agent that printed two large jobs held ~200 MB for good (issue 14). malloc_trim
hands them back; where there is no glibc (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

LARGE = 1024 * 1024  # a document at least this big is worth a trim afterwards


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the process's libc
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_freed_memory() -> bool:
    """Return the allocator's free pages to the system; whether there was a way to."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
