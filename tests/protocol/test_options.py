"""The one grammar of print options, and the one count of copies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from printcloud.protocol.options import MAX_PAGE, PrintOptions, page_ranges


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("1-5,8", [(1, 5), (8, 8)]),
        (" 8 , 1 - 3 ", [(1, 3), (8, 8)]),
        ("1-3,2-6,7", [(1, 7)]),
        ("4", [(4, 4)]),
        (f"1-{MAX_PAGE}", [(1, MAX_PAGE)]),
    ],
)
def test_page_ranges_are_sorted_and_merged(text: str, ranges: list[tuple[int, int]]) -> None:
    assert page_ranges(text) == ranges


@pytest.mark.parametrize(
    "text", ["", "0", "5-3", "a-b", "1,,2", "1-2-3", "-4", "4-", f"1-{MAX_PAGE + 1}"]
)
def test_bad_page_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="page"):
        page_ranges(text)


def test_pages_are_kept_compact_as_given() -> None:
    options = PrintOptions.model_validate({"pages": " 8 , 1 - 3 "})
    assert options.pages == "8,1-3"
    assert options.page_ranges() == [(1, 3), (8, 8)]
    assert PrintOptions().page_ranges() == []


@pytest.mark.parametrize(
    ("options", "qty", "total"),
    [({}, 1, 1), ({}, 3, 3), ({"copies": 2}, 1, 2), ({"copies": 2}, 3, 6), ({"copies": 4}, 0, 4)],
)
def test_copies_are_the_documents_copies_for_each_of_the_jobs_qty(
    options: dict[str, Any], qty: int, total: int
) -> None:
    assert PrintOptions.model_validate(options).total_copies(qty) == total


@pytest.mark.parametrize(
    "options",
    [
        {"copies": 0},
        {"copies": 1000},
        {"copies": "many"},
        {"duplex": "both-sides"},
        {"pages": "5-1"},
        {"color": "sometimes"},
        {"paper": ""},
        {"media": "x" * 65},
    ],
)
def test_invalid_values_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PrintOptions.model_validate(options)


def test_an_option_a_newer_server_adds_is_ignored_and_not_sent_on() -> None:
    options = PrintOptions.model_validate({"copies": 2, "staple": "top-left"})
    assert options.as_sent() == {"copies": 2}
