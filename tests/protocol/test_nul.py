"""The U+0000 rule's walk: where the NUL is, named as a validation error names a field."""

from __future__ import annotations

from typing import Any

import pytest

from printcloud.protocol.nul import first_nul, nul_path

NUL = "\u0000"


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("plain", None),
        (f"a{NUL}", ""),
        ({"title": "ok", "options": {"media": f"T{NUL}"}}, "options.media"),
        ({"printers": [{"name": "a"}, {"name": f"b{NUL}"}]}, "printers.1.name"),
        ({"capabilities": {f"k{NUL}": 1}}, "capabilities"),
        ({"first": f"{NUL}", "second": f"{NUL}"}, "first"),
        ({"n": 1, "b": True, "z": None, "f": 1.5}, None),
    ],
)
def test_nul_path_names_where_the_nul_is(value: Any, path: str | None) -> None:
    assert nul_path(value) == path


def test_nul_path_walks_deeper_than_the_recursion_limit() -> None:
    nested: Any = f"x{NUL}"
    for _ in range(5000):
        nested = [nested]

    assert nul_path(nested) == ".".join(["0"] * 5000)


def test_first_nul_names_the_parameter_and_ignores_other_values() -> None:
    assert first_nul([("limit", "1"), ("after", f"pj_{NUL}")]) == "after"
    assert first_nul([("id", 7), ("x", "y")]) is None
    assert first_nul([(f"a{NUL}", "")]) == "a"
