"""Hypothesis strategies for hostile agent messages: the protocol's shapes, with values
no agent should send (NUL, huge strings, wrong types, numbers out of any range, deep
nesting), and messages that are not the protocol at all.

``expected_answer`` says what the protocol promises for a message, from the message
alone: a documented close, an ``error`` reply, or any answer that keeps the socket open.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from hypothesis import strategies as st

from printcloud.protocol.messages import CLIENT_TYPES
from printcloud.protocol.nul import nul_path
from printcloud.protocol.session import CLOSE_INVALID_DATA, CLOSE_TOO_BIG


class Answer(Enum):
    ERROR = "an error reply, the socket open"
    ANY = "any answer, the socket open"


def _sizes(limit: int) -> st.SearchStrategy[int]:
    return st.sampled_from([0, 1, 40, 41, 200, 201, 2000, 2001, limit // 2, limit + 1])


def hostile_text(max_message_size: int) -> st.SearchStrategy[str]:
    """Short odd text, text with NUL, text at and past the protocol's field limits, and
    text past the server's message size."""
    return st.one_of(
        st.text(max_size=20),
        st.text(max_size=10).map(lambda text: text + "\u0000"),
        st.tuples(st.sampled_from("xé\u202e\U0001f5a8"), _sizes(max_message_size)).map(
            lambda pair: pair[0] * pair[1]
        ),
    )


def hostile_value(max_message_size: int) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1]),
        st.floats(),  # NaN and infinities too, which Python's json writes and reads
        hostile_text(max_message_size),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=12,
    )


def _maybe(value: st.SearchStrategy[Any], valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value most of the time, so that the other fields' hostility is reached."""
    return st.one_of(valid, valid, value)


def hostile_messages(job_id: str, max_message_size: int) -> st.SearchStrategy[str]:
    """The text of one message an authenticated agent might send."""
    value = hostile_value(max_message_size)
    name = _maybe(value, st.text(min_size=1, max_size=30))
    printer = st.fixed_dictionaries(
        {"name": name},
        optional={
            "capabilities": _maybe(value, st.dictionaries(st.text(max_size=8), value, max_size=3)),
            "isDefault": _maybe(value, st.booleans()),
            "state": _maybe(value, st.sampled_from(["online", "offline"])),
        },
    )
    printers = st.fixed_dictionaries(
        {"type": st.just("printers"), "printers": _maybe(value, st.lists(printer, max_size=4))}
    )
    job_state = st.fixed_dictionaries(
        {
            "type": st.just("job_state"),
            "jobId": _maybe(value, st.sampled_from([job_id, "pj_unknown"])),
            "state": _maybe(value, st.sampled_from(["printing", "completed", "error", "sent"])),
        },
        optional={"message": _maybe(value, st.text(max_size=30))},
    )
    unknown = st.fixed_dictionaries(
        {"type": st.text(max_size=12).filter(lambda kind: kind not in CLIENT_TYPES)},
        optional={"printers": value, "jobId": value},
    )
    auth_again = st.fixed_dictionaries(
        {"type": st.just("auth"), "apiKey": value, "computerName": name}
    )
    # Written as text: json.dumps would recurse as deep. Far from the JSON parser's
    # nesting limit (about 1,000) on either side: near it, the server's stack and this
    # one's would disagree about where it is.
    deep = st.sampled_from([1, 2, 50, 500, 2000, 5000]).map(
        lambda depth: '{"type": "printers", "printers": ' + "[" * depth + "]" * depth + "}"
    )
    not_a_message = st.one_of(
        value.filter(lambda v: not isinstance(v, dict)),
        st.fixed_dictionaries({"type": value.filter(lambda v: not isinstance(v, str))}),
    )
    shapes = st.one_of(printers, job_state, unknown, auth_again, not_a_message)
    broken = st.sampled_from(["", "{", "not json", "\u0000", '{"type": "printers"'])
    return st.one_of(shapes.map(json.dumps), _with_nul(job_id).map(json.dumps), deep, broken)


def _with_nul(job_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid messages but for one NUL: where PostgreSQL, unlike SQLite, cannot store a
    value the protocol let through."""
    nul = st.text(max_size=10).map(lambda text: text + "\u0000")
    name = st.text(min_size=1, max_size=10)
    media = st.fixed_dictionaries({"media": st.lists(nul, min_size=1, max_size=2)})
    printer = st.one_of(
        st.fixed_dictionaries({"name": nul}),
        st.fixed_dictionaries({"name": name, "capabilities": media}),
    )
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("printers"), "printers": st.lists(printer, min_size=1, max_size=2)}
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("job_state"),
                "jobId": st.just(job_id),
                "state": st.just("printing"),
                "message": nul,
            }
        ),
        st.fixed_dictionaries(
            {"type": st.just("job_state"), "jobId": nul, "state": st.just("printing")}
        ),
    )


def expected_answer(text: str, max_message_size: int) -> int | Answer:
    """The close code the message must get, or the kind of answer."""
    if len(text.encode()) > max_message_size:
        return CLOSE_TOO_BIG
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return CLOSE_INVALID_DATA
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return CLOSE_INVALID_DATA
    if message["type"] not in CLIENT_TYPES or nul_path(message) is not None:
        return Answer.ERROR
    return Answer.ANY
