"""U+0000 (NUL) in received text: one rule for every edge, naming where it was.

PostgreSQL cannot store NUL in text or JSONB (SQLite can), so the same value was kept
by one backend and made the other fail with a 500 or a dropped socket; and no field of
the API or of the agent protocol means anything with it. So it is refused wherever
text comes in, before any of it is used: JSON bodies and protocol messages by their
base models (``refuse_nul`` as a model validator), path and query parameters and the
dashboard's forms at their own edge, all with ``RULE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic_core import PydanticCustomError

NUL = "\x00"
RULE = "must not contain the NUL character (U+0000)"


def nul_path(value: Any) -> str | None:
    """Where in a JSON-like ``value`` (str, dict, list) a NUL is, as a dotted path of
    keys and indexes (``"options.media"``, ``"printers.0.name"``; a key with NUL names
    its object); ``""`` for ``value`` itself; None when there is none."""
    return _locate(value) if _has_nul(value) else None


# Both walk with a list rather than by recursion: a message nested as deep as the JSON
# parser allows must not reach the interpreter's recursion limit here.


def _has_nul(value: Any) -> bool:
    """The common answer (no), for every request body and message: a few hundred
    nanoseconds where finding the path costs microseconds."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and NUL in key:
                    return True
                if isinstance(child, str):
                    if NUL in child:
                        return True
                elif isinstance(child, dict | list | tuple):
                    pending.append(child)
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _locate(value: Any) -> str | None:
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return path
        elif isinstance(item, dict):
            if any(isinstance(key, str) and NUL in key for key in item):
                return path
            # reversed: the stack then gives the first field in the message's order
            pending.extend((_join(path, key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list | tuple):
            pending.extend(
                (_join(path, index), child) for index, child in reversed(list(enumerate(item)))
            )
    return None


def first_nul(pairs: Iterable[tuple[str, object]]) -> str | None:
    """The name of the first of ``pairs`` (name, value) with NUL in either; None if none.
    A value that is not text (a path parameter converted to a number, a form's file)
    has none."""
    for name, value in pairs:
        if NUL in name or (isinstance(value, str) and NUL in value):
            return name.replace(NUL, "") or "parameter"
    return None


def refuse_nul(data: Any) -> Any:
    """A ``model_validator(mode="before")`` body: ``data`` unchanged, or a validation
    error naming where the NUL is. Before the fields' own rules, so that the outermost
    model names the whole path."""
    path = nul_path(data)
    if path is not None:
        raise PydanticCustomError("nul_character", "{where}" + RULE, {"where": _where(path)})
    return data


def described(name: str) -> str:
    """The message for a parameter or field ``name`` that holds NUL."""
    return _where(name) + RULE


def _where(path: str) -> str:
    return f"{path}: " if path else ""


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
