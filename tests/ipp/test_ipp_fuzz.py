"""The IPP printer under generated requests (Hypothesis), on each backend: random bytes,
valid requests mutated (bytes flipped, cut, inserted, repeated) and well-formed
messages of random attributes with values of any tag. Each is answered with an IPP
response (never server-error-internal-error) or an HTTP 400, never a 500 or a crash;
afterwards another account holds what it held and the printer still answers.

Hypothesis runs in a worker thread and hands each request to the test's event loop.
``PRINTCLOUD_FUZZ_EXAMPLES`` sets the examples per strategy (150 by default,
derandomized for CI); raise it to search longer."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from printcloud.protocol import ipp
from printcloud.protocol.ipp import GroupTag, Operation, Range, RawValue, ValueTag, attr
from printcloud.server.accounts.permissions import Permission
from printcloud.server.app import create_app
from printcloud.server.db.models import Printer
from printcloud.server.runtime import Runtime
from tests.helpers import ipp_client
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.asgi_client import client_for
from tests.helpers.documents import minimal_pdf
from tests.helpers.loop import in_loop

EXAMPLES = int(os.environ.get("PRINTCLOUD_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a timed assertion would fail on a loaded machine, not on a bug
    database=None,  # no .hypothesis directory in the work tree
    derandomize=os.environ.get("PRINTCLOUD_FUZZ_SEED") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INTERNAL_ERROR = 0x0500


def valid_requests(printer: str) -> list[bytes]:
    job_id = attr("job-id", ValueTag.INTEGER, 1)
    template = [
        attr("copies", ValueTag.INTEGER, 2),
        attr("sides", ValueTag.KEYWORD, "two-sided-long-edge"),
        attr("page-ranges", ValueTag.RANGE_OF_INTEGER, Range(1, 3)),
        attr(
            "media-col",
            ValueTag.BEG_COLLECTION,
            [
                attr(
                    "media-size",
                    ValueTag.BEG_COLLECTION,
                    [
                        attr("x-dimension", ValueTag.INTEGER, 21000),
                        attr("y-dimension", ValueTag.INTEGER, 29700),
                    ],
                )
            ],
        ),
    ]
    last = attr("last-document", ValueTag.BOOLEAN, True)
    return [
        ipp_client.body(
            Operation.GET_PRINTER_ATTRIBUTES,
            printer,
            [attr("requested-attributes", ValueTag.KEYWORD, "all", "media-col-database")],
        ),
        ipp_client.body(
            Operation.PRINT_JOB,
            printer,
            [attr("job-name", ValueTag.NAME, "fuzz")],
            template,
            minimal_pdf(),
        ),
        ipp_client.body(Operation.VALIDATE_JOB, printer, [], template),
        ipp_client.body(Operation.CREATE_JOB, printer, [], template),
        ipp_client.body(Operation.SEND_DOCUMENT, printer, [job_id, last], data=minimal_pdf()),
        ipp_client.body(
            Operation.GET_JOBS,
            printer,
            [
                attr("which-jobs", ValueTag.KEYWORD, "completed"),
                attr("limit", ValueTag.INTEGER, 5),
            ],
        ),
        ipp_client.body(Operation.GET_JOB_ATTRIBUTES, printer, [job_id]),
        ipp_client.body(Operation.CANCEL_JOB, printer, [job_id]),
    ]


@st.composite
def mutated(draw: st.DrawFn, requests: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(requests)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
    return bytes(data)


_INTS = st.integers(-(2**31), 2**31 - 1)
_KEYWORDS = st.one_of(
    st.sampled_from(
        ["one-sided", "two-sided-long-edge", "fit", "auto", "completed", "all", "none", "color"]
    ),
    st.text(max_size=30),
)
_TYPED: dict[ValueTag, st.SearchStrategy[Any]] = {
    ValueTag.INTEGER: _INTS,
    ValueTag.ENUM: _INTS,
    ValueTag.BOOLEAN: st.booleans(),
    ValueTag.KEYWORD: _KEYWORDS,
    ValueTag.NAME: st.text(max_size=40),
    ValueTag.MIME_MEDIA_TYPE: st.sampled_from(["application/pdf", "image/jpeg", ""]),
    ValueTag.URI: st.text(max_size=40),
    ValueTag.RANGE_OF_INTEGER: st.builds(Range, _INTS, _INTS),
}
# Each attribute the operations read, with the tag it is sent as.
OPERATION_ATTRIBUTES = {
    "job-id": ValueTag.INTEGER,
    "job-uri": ValueTag.URI,
    "job-name": ValueTag.NAME,
    "requested-attributes": ValueTag.KEYWORD,
    "which-jobs": ValueTag.KEYWORD,
    "limit": ValueTag.INTEGER,
    "job-ids": ValueTag.INTEGER,
    "document-format": ValueTag.MIME_MEDIA_TYPE,
    "compression": ValueTag.KEYWORD,
    "last-document": ValueTag.BOOLEAN,
    "ipp-attribute-fidelity": ValueTag.BOOLEAN,
}
JOB_ATTRIBUTES = {
    "copies": ValueTag.INTEGER,
    "sides": ValueTag.KEYWORD,
    "media": ValueTag.KEYWORD,
    "media-col": ValueTag.BEG_COLLECTION,
    "media-size": ValueTag.BEG_COLLECTION,
    "x-dimension": ValueTag.INTEGER,
    "media-source": ValueTag.KEYWORD,
    "page-ranges": ValueTag.RANGE_OF_INTEGER,
    "print-scaling": ValueTag.KEYWORD,
    "print-color-mode": ValueTag.KEYWORD,
    "finishings": ValueTag.ENUM,
    "job-priority": ValueTag.INTEGER,
    "x-unknown": ValueTag.KEYWORD,
}
# Tags whose values parse whatever their bytes (of the right length): a value of any
# kind where another was expected. Malformed bytes are the other strategies' business.
_FIXED = {
    ValueTag.INTEGER: 4,
    ValueTag.ENUM: 4,
    ValueTag.BOOLEAN: 1,
    ValueTag.RANGE_OF_INTEGER: 8,
    ValueTag.RESOLUTION: 9,
    ValueTag.DATETIME: 11,
}
_RAW_TAGS = [
    t
    for t in ValueTag
    if t
    not in {
        ValueTag.BEG_COLLECTION,
        ValueTag.END_COLLECTION,
        ValueTag.MEMBER_ATTR_NAME,
        ValueTag.TEXT_WITH_LANGUAGE,
        ValueTag.NAME_WITH_LANGUAGE,
    }
]


@st.composite
def attribute(draw: st.DrawFn, names: dict[str, ValueTag], depth: int = 0) -> ipp.Attribute:
    """An attribute of a name the operations read, usually with its own tag, sometimes
    with any other tag and bytes."""
    name = draw(st.sampled_from(sorted(names)))
    tag = names[name]
    if tag == ValueTag.BEG_COLLECTION and depth < 3:
        members = draw(st.lists(attribute(JOB_ATTRIBUTES, depth + 1), max_size=4))
        return ipp.Attribute(name, tag, (members,))
    if tag in _TYPED and draw(st.integers(0, 3)):
        values = draw(st.lists(_TYPED[tag], min_size=1, max_size=2))
        return ipp.Attribute(name, tag, tuple(values))
    raw_tag = draw(st.sampled_from(_RAW_TAGS))
    size = _FIXED.get(raw_tag)
    data = st.binary(min_size=size, max_size=size) if size else st.binary(max_size=24)
    raw = draw(st.lists(data, min_size=1, max_size=2))
    return ipp.Attribute(name, raw_tag, tuple(RawValue(raw_tag, b) for b in raw))


_SERVED = [
    Operation.GET_PRINTER_ATTRIBUTES,
    Operation.PRINT_JOB,
    Operation.VALIDATE_JOB,
    Operation.CREATE_JOB,
    Operation.SEND_DOCUMENT,
    Operation.GET_JOBS,
    Operation.GET_JOB_ATTRIBUTES,
    Operation.CANCEL_JOB,
    Operation.CLOSE_JOB,
    Operation.IDENTIFY_PRINTER,
]


_PRINTING = [Operation.PRINT_JOB, Operation.VALIDATE_JOB, Operation.CREATE_JOB]


@st.composite
def built(draw: st.DrawFn, printer: str) -> bytes:
    """Well-formed IPP, mostly with a valid envelope and an operation we serve, of the
    attributes the operations read with values of any kind: their checks are fuzzed."""
    operation_group = [
        attr("attributes-charset", ValueTag.CHARSET, "utf-8"),
        attr("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        attr("printer-uri", ValueTag.URI, ipp_client.uri(printer)),
    ]
    if not draw(st.integers(0, 9)):
        operation_group = draw(st.permutations(operation_group))[: draw(st.integers(0, 3))]
    operation_group += draw(st.lists(attribute(OPERATION_ATTRIBUTES), max_size=4))
    groups: list[tuple[int, list[ipp.Attribute]]] = [(GroupTag.OPERATION, operation_group)]
    if draw(st.integers(0, 3)):
        groups.append(
            (GroupTag.JOB, draw(st.lists(attribute(JOB_ATTRIBUTES), min_size=1, max_size=5)))
        )
    if not draw(st.integers(0, 9)):
        groups.insert(draw(st.integers(0, len(groups))), (GroupTag.PRINTER, []))
    served = st.sampled_from(_SERVED + _PRINTING)  # the operations that read most, twice
    operation = draw(served if draw(st.integers(0, 6)) else st.integers(0, 0xFFFF))
    versions = [(1, 1), (2, 0), (1, 0), (2, 2), (1, 1), (2, 0), (0, 0), (9, 9)]
    version = draw(st.sampled_from(versions))
    data = draw(st.sampled_from([b"", minimal_pdf(), b"%PDF-", b"\x00" * 10]))
    return ipp.encode(operation, draw(st.integers(1, 0x7FFFFFFF)), groups, data, version=version)


async def test_generated_requests_get_an_ipp_answer_or_a_400(
    runtime_factory: Callable[..., Runtime],
) -> None:
    runtime = runtime_factory(rate_limit="1000000/s")
    owner = await make_account(runtime)
    other = await make_account(runtime)
    printers = {}
    for account in (owner, other):
        computer = await account.add_computer(runtime)
        async with runtime.sessionmaker() as session:
            found = await session.scalar(
                select(Printer.id).where(Printer.computer_id == computer.id)
            )
        assert found is not None
        printers[account.account_id] = found
    printer = printers[owner.account_id]
    run = in_loop(asyncio.get_running_loop())
    requests = valid_requests(printer)

    async with client_for(create_app(runtime=runtime)) as client:
        await ipp_client.post(
            client,
            printers[other.account_id],
            valid_requests(printers[other.account_id])[1],
            other.auth(),
        )
        before = await holdings(client, other)

        async def exchange(body: bytes) -> None:
            response = await ipp_client.post(client, printer, body, owner.auth(Permission.FULL))
            assert response.status_code in {200, 400}, (response.status_code, body[:80])
            if response.status_code == 400:
                assert response.json()["code"] == "BadRequest"
                return
            answer = ipp.parse(response.content)
            assert answer.code != INTERNAL_ERROR, body[:80]
            assert list(answer.groups[0][1])[:2] == [
                "attributes-charset",
                "attributes-natural-language",
            ]

        @FUZZ
        @given(body=st.binary(max_size=600))
        def random_bytes(body: bytes) -> None:
            run(exchange(body))

        @FUZZ
        @given(body=mutated(requests))
        def mutated_requests(body: bytes) -> None:
            run(exchange(body))

        @settings(FUZZ, max_examples=3 * EXAMPLES)  # the deepest: the most examples
        @given(body=built(printer))
        def built_requests(body: bytes) -> None:
            run(exchange(body))

        for fuzz in (random_bytes, mutated_requests, built_requests):
            await asyncio.to_thread(fuzz)

        for body in requests:
            await exchange(body)
        assert await holdings(client, other) == before
        still = await ipp_client.post(client, printer, requests[0], owner.auth())
        assert ipp.parse(still.content).status_name == "successful-ok"


async def holdings(client: httpx.AsyncClient, account: TestAccount) -> list[Any]:
    response = await client.get("/api/printjobs", auth=account.auth())
    jobs = response.json()
    printers = (await client.get("/api/printers", auth=account.auth())).json()
    return [jobs, printers]
