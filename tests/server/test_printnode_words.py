"""The PrintNode API's own grammar and words, without a server: its sets, paper sizes,
options and states."""

from __future__ import annotations

import pytest

from printcloud.protocol.job_states import JobState
from printcloud.server.errors import BadRequest
from printcloud.server.printnode.options import MAPPED, REFUSED, our_options
from printcloud.server.printnode.sets import MAX_PARTS, IdSet, parse_set
from printcloud.server.printnode.shapes import STATE_NAMES, paper_size


def test_a_set_is_its_ids_and_ranges_never_expanded() -> None:
    assert parse_set("12") == IdSet(((12, 12),))
    assert parse_set("12,15,100-200") == IdSet(((12, 12), (15, 15), (100, 200)))
    wide = parse_set("1-999999999999")
    assert wide.ranges == ((1, 999999999999),)
    assert 500 in wide
    assert 13 not in parse_set("12,15")


@pytest.mark.parametrize("bad", ["", "a", "0", "-1", "3-1", "1,", "1--2", "1.5", "1-2-3"])
def test_a_malformed_set_is_refused(bad: str) -> None:
    with pytest.raises(BadRequest, match="is not a computer set"):
        parse_set(bad, "computer")


def test_a_set_has_a_bounded_number_of_parts() -> None:
    parse_set(",".join(str(i) for i in range(1, MAX_PARTS + 1)))
    with pytest.raises(BadRequest, match=f"at most {MAX_PARTS} parts"):
        parse_set(",".join(str(i) for i in range(1, MAX_PARTS + 2)))


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("iso_a4_210x297mm", [2100, 2970]),
        ("na_letter_8.5x11in", [2159, 2794]),
        ("oe_4x6-label_4x6in", [1016, 1524]),
        ("A4", [None, None]),
        ("Tray 1", [None, None]),
    ],
)
def test_a_paper_size_in_tenths_of_a_millimetre_when_the_name_says_it(
    name: str, size: list[int | None]
) -> None:
    assert paper_size(name) == size


def test_printnode_options_are_ours_with_bin_as_media() -> None:
    options = our_options(
        {
            "copies": 3,
            "color": False,
            "duplex": "short-edge",
            "paper": "A4",
            "pages": "1-2,5",
            "fit_to_page": True,
            "bin": "Tray 2",
        }
    )
    assert options.as_sent() == {
        "copies": 3,
        "color": False,
        "duplex": "short-edge",
        "paper": "A4",
        "pages": "1-2,5",
        "fit_to_page": True,
        "media": "Tray 2",
    }


def test_a_bad_value_is_named_by_printnodes_option_name() -> None:
    with pytest.raises(BadRequest, match=r"options\.bin"):
        our_options({"bin": "x" * 65})


def test_no_option_is_both_mapped_and_refused() -> None:
    assert not set(MAPPED) & set(REFUSED)


def test_every_state_of_ours_has_a_printnode_word() -> None:
    assert set(STATE_NAMES) == set(JobState)


def test_a_rotation_of_0_and_one_page_per_sheet_ask_for_nothing() -> None:
    assert our_options({"rotate": 0, "nup": 1}).as_sent() == {}
    for asking in ({"rotate": 180}, {"nup": 2}, {"nup": True}, {"rotate": 0.5}):
        with pytest.raises(BadRequest, match="is not supported"):
            our_options(asking)
