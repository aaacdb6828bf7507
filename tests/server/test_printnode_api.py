"""The PrintNode-compatible API (/printnode): PrintNode's shapes, ids, sets, pagination,
options and errors, over the same jobs as ours."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount
from tests.helpers.documents import PDF_B64

COMPUTER_FIELDS = {
    "id",
    "name",
    "inet",
    "inet6",
    "hostname",
    "version",
    "jre",
    "createTimestamp",
    "state",
}
CAPABILITY_FIELDS = {
    "bins",
    "collate",
    "copies",
    "color",
    "dpis",
    "duplex",
    "extent",
    "medias",
    "nup",
    "papers",
    "printrate",
    "supports_custom_paper_size",
}


def pn_job(printer: int | str, **fields: Any) -> dict[str, Any]:
    return {
        "printerId": printer,
        "title": "Invoice #456",
        "contentType": "pdf_base64",
        "content": PDF_B64,
        "source": "tests",
        **fields,
    }


async def printers_by_name(client: httpx.AsyncClient, account: TestAccount) -> dict[str, Any]:
    response = await client.get("/printnode/printers", auth=account.auth())
    assert response.status_code == 200, response.text
    return {p["name"]: p for p in response.json()}


async def submit(
    client: httpx.AsyncClient, account: TestAccount, printer: int, **fields: Any
) -> int:
    response = await client.post(
        "/printnode/printjobs", auth=account.auth(), json=pn_job(printer, **fields)
    )
    assert response.status_code == 201, response.text
    number = response.json()
    assert isinstance(number, int)
    return number


def assert_printnode_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"uid", "code", "message"}
    assert body["code"] == code
    assert body["uid"] == response.headers["Request-Id"]
    return str(body["message"])


async def test_whoami_is_the_account_in_printnode_shape(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    await account.add_computer(runtime, "Home", ("Epson",), state="offline")

    response = await client.get("/printnode/whoami", auth=account.auth())

    assert response.status_code == 200
    me = response.json()
    assert isinstance(me["id"], int)
    assert (me["firstname"], me["lastname"], me["email"]) == ("John", "Doe", account.user.email)
    assert me["numComputers"] == 2
    assert me["totalPrints"] == 0
    assert me["canCreateSubAccounts"] is False
    assert me["childAccounts"] == []
    assert me["state"] == "active"
    computers = (await client.get("/printnode/computers", auth=account.auth())).json()
    online = [c["id"] for c in computers if c["state"] == "connected"]
    assert me["connected"] == online
    again = (await client.get("/printnode/whoami", auth=account.auth())).json()
    assert again["id"] == me["id"]


async def test_computers_and_printers_have_stable_integer_ids_and_printnode_shapes(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP LaserJet Pro", "Zebra"))

    computers = (await client.get("/printnode/computers", auth=account.auth())).json()
    printers = await printers_by_name(client, account)

    [office] = computers
    assert set(office) == COMPUTER_FIELDS
    assert isinstance(office["id"], int)
    assert (office["name"], office["version"], office["state"]) == (
        "Office-PC",
        "1.0.0",
        "connected",
    )
    assert office["createTimestamp"].endswith("Z")
    hp = printers["HP LaserJet Pro"]
    assert isinstance(hp["id"], int)
    assert hp["computer"] == office
    assert hp["default"] is True
    assert printers["Zebra"]["default"] is False
    assert hp["state"] == "online"
    assert set(hp["capabilities"]) == CAPABILITY_FIELDS
    assert hp["capabilities"]["bins"] == ["Tray 1", "Manual"]
    assert hp["capabilities"]["papers"] == {"A4": [None, None], "Letter": [None, None]}
    assert (hp["capabilities"]["color"], hp["capabilities"]["duplex"]) == (True, True)
    # The same numbers on every call.
    assert await printers_by_name(client, account) == printers
    assert (await client.get("/printnode/computers", auth=account.auth())).json() == computers


async def test_sets_name_one_many_and_ranges_and_nothing_found_is_an_empty_list(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("A", "B", "C"))
    await account.add_computer(runtime, "Home", ("D",))
    printers = await printers_by_name(client, account)
    a, b, c, d = (printers[n]["id"] for n in "ABCD")

    async def names(path: str) -> list[str]:
        response = await client.get(f"/printnode{path}", auth=account.auth())
        assert response.status_code == 200, response.text
        return sorted(p["name"] for p in response.json())

    assert await names(f"/printers/{a}") == ["A"]
    assert await names(f"/printers/{a},{c}") == ["A", "C"]
    assert await names(f"/printers/{a}-{c}") == ["A", "B", "C"]
    assert await names(f"/printers/{a},{c}-{d}") == ["A", "C", "D"]
    assert await names(f"/printers/{d + 1000}") == []
    home = printers["D"]["computer"]["id"]
    office = printers["A"]["computer"]["id"]
    assert await names(f"/computers/{home}/printers") == ["D"]
    assert await names(f"/computers/{office},{home}/printers") == ["A", "B", "C", "D"]
    assert await names(f"/computers/{office}/printers/{b}-{d}") == ["B", "C"]
    computers = (await client.get(f"/printnode/computers/{home}", auth=account.auth())).json()
    assert [c["name"] for c in computers] == ["Home"]


@pytest.mark.parametrize("bad", ["abc", "0", "5-2", "1,,2", "-3", "1-2-3"])
async def test_a_malformed_set_is_refused(
    client: httpx.AsyncClient, account: TestAccount, bad: str
) -> None:
    response = await client.get(f"/printnode/printers/{bad}", auth=account.auth())
    message = assert_printnode_error(response, 400, "BadRequest")
    assert "printer set" in message


async def test_pagination_limit_after_and_dir(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    jobs = [await submit(client, account, printer, title=f"job {i}") for i in range(5)]

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/printnode/printjobs?{query}", auth=account.auth())
        assert response.status_code == 200, response.text
        return [j["id"] for j in response.json()]

    assert await ids("") == sorted(jobs, reverse=True)  # desc by default
    assert await ids("limit=2") == sorted(jobs, reverse=True)[:2]
    assert await ids(f"limit=2&after={jobs[3]}") == [jobs[2], jobs[1]]
    assert await ids("dir=asc&limit=2") == jobs[:2]
    assert await ids(f"dir=asc&after={jobs[1]}") == jobs[2:]
    response = await client.get("/printnode/printjobs?limit=0", auth=account.auth())
    assert "limit" in assert_printnode_error(response, 400, "BadRequest")
    response = await client.get("/printnode/printjobs?dir=up", auth=account.auth())
    assert "dir" in assert_printnode_error(response, 400, "BadRequest")


async def test_a_job_posted_here_is_the_same_job_in_our_api(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]
    options = {"copies": 2, "duplex": "long-edge", "paper": "A4", "bin": "Tray 1"}

    number = await submit(client, account, printer["id"], options=options, qty=3)

    [job] = (await client.get(f"/printnode/printjobs/{number}", auth=account.auth())).json()
    assert job["id"] == number
    assert job["printer"] == printer
    assert (job["title"], job["contentType"], job["state"]) == (
        "Invoice #456",
        "pdf_base64",
        "new",
    )
    assert job["expireAt"] is None
    assert job["source"] == "tests"
    [ours] = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert ours["title"] == "Invoice #456"
    assert ours["qty"] == 3
    assert ours["options"] == {"copies": 2, "duplex": "long-edge", "paper": "A4", "media": "Tray 1"}
    assert (
        ours["printerId"]
        == (await client.get("/api/printers", auth=account.auth())).json()[0]["id"]
    )


async def test_expire_after_is_the_jobs_expiry(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]

    number = await submit(client, account, printer, expireAfter=600)

    [job] = (await client.get(f"/printnode/printjobs/{number}", auth=account.auth())).json()
    [ours] = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert ours["expiresAt"] is not None
    assert job["expireAt"] is not None
    assert job["expireAt"].endswith("Z")


async def test_what_clients_send_by_habit_is_read_as_printnode_does(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    """A printer id as a string of digits, an empty X-Idempotency-Key, a rotation of 0
    and one page per sheet: what PrintNode clients send without asking for anything."""
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    body = pn_job(str(printer), options={"rotate": 0, "nup": 1, "copies": 2})

    for _ in range(2):
        response = await client.post(
            "/printnode/printjobs",
            auth=account.auth(),
            json=body,
            headers={"X-Idempotency-Key": ""},
        )
        assert response.status_code == 201, response.text

    jobs = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert [j["options"] for j in jobs] == [{"copies": 2}, {"copies": 2}]


@pytest.mark.parametrize("option", ["collate", "dpi", "nup", "rotate", "media"])
async def test_an_option_we_cannot_honour_is_refused_by_name(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount, option: str
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    values = {"collate": True, "dpi": "300x300", "nup": 2, "rotate": 90, "media": "Glossy"}

    response = await client.post(
        "/printnode/printjobs",
        auth=account.auth(),
        json=pn_job(printer, options={"copies": 1, option: values[option]}),
    )

    message = assert_printnode_error(response, 400, "BadRequest")
    assert f"options.{option}" in message
    assert (await client.get("/api/printjobs", auth=account.auth())).json() == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"options": {"staple": True}}, "options.staple"),
        ({"options": {"duplex": "sideways"}}, "options.duplex"),
        ({"options": {"bin": ""}}, "options.bin"),
        ({"options": {"copies": 0}}, "options.copies"),
        ({"authentication": {"type": "BasicAuth"}}, "authentication"),
        ({"printerId": "twelve"}, "printerId"),
        ({"printerId": 0}, "printerId"),
        ({"contentType": "pdf_file"}, "contentType"),
        ({"qty": 0}, "qty"),
        ({"expireAfter": 0}, "expireAfter"),
        ({"clientKey": "x"}, "clientKey"),
    ],
)
async def test_a_bad_job_is_refused_naming_the_field(
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    body: dict[str, Any],
    named: str,
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]

    response = await client.post(
        "/printnode/printjobs", auth=account.auth(), json=pn_job(printer, **body)
    )

    assert named in assert_printnode_error(response, 400, "BadRequest")


async def test_a_body_without_content_type_is_read_as_json(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    """What PrintNode's Python client sends: a JSON body with no Content-Type."""
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]

    response = await client.post(
        "/printnode/printjobs", auth=account.auth(), content=json.dumps(pn_job(printer))
    )

    assert response.status_code == 201, response.text
    response = await client.post("/printnode/printjobs", auth=account.auth(), content=b"{nope")
    assert "JSON" in assert_printnode_error(response, 400, "BadRequest")


async def test_the_idempotency_header_makes_one_job_and_refuses_the_repeat(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    headers = {"X-Idempotency-Key": "invoice-456"}

    first = await client.post(
        "/printnode/printjobs", auth=account.auth(), json=pn_job(printer), headers=headers
    )
    again = await client.post(
        "/printnode/printjobs", auth=account.auth(), json=pn_job(printer), headers=headers
    )

    assert first.status_code == 201
    message = assert_printnode_error(again, 409, "Conflict")
    assert f"print job {first.json()}" in message
    assert len((await client.get("/api/printjobs", auth=account.auth())).json()) == 1


async def test_states_are_each_jobs_history_in_printnode_words(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    first = await submit(client, account, printer)
    second = await submit(client, account, printer)

    all_states = (await client.get("/printnode/printjobs/states", auth=account.auth())).json()
    one = (await client.get(f"/printnode/printjobs/{first}/states", auth=account.auth())).json()

    assert [[s["printJobId"] for s in job] for job in all_states] == [[second], [first]]
    [[state]] = one
    assert state["printJobId"] == first
    assert state["state"] == "new"
    assert state["clientVersion"] is None
    assert state["data"] is None
    assert isinstance(state["age"], int)
    assert state["age"] >= 0
    assert set(state) == {
        "printJobId",
        "state",
        "message",
        "data",
        "clientVersion",
        "createTimestamp",
        "age",
    }


async def test_jobs_of_printers_and_their_deletion(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP", "Zebra"))
    printers = await printers_by_name(client, account)
    hp, zebra = printers["HP"]["id"], printers["Zebra"]["id"]
    on_hp = [await submit(client, account, hp) for _ in range(2)]
    on_zebra = await submit(client, account, zebra)

    listed = (await client.get(f"/printnode/printers/{hp}/printjobs", auth=account.auth())).json()
    assert sorted(j["id"] for j in listed) == on_hp
    one = await client.get(
        f"/printnode/printers/{zebra}/printjobs/{on_hp[0]},{on_zebra}", auth=account.auth()
    )
    assert [j["id"] for j in one.json()] == [on_zebra]

    deleted = await client.delete(f"/printnode/printjobs/{on_hp[0]}", auth=account.auth())
    assert deleted.status_code == 200
    assert deleted.json() == [on_hp[0]]
    deleted = await client.delete(f"/printnode/printers/{hp}/printjobs", auth=account.auth())
    assert deleted.json() == [on_hp[1]]
    assert (
        await client.delete(f"/printnode/printjobs/{on_hp[0]}", auth=account.auth())
    ).json() == []
    remaining = (await client.get("/api/printjobs", auth=account.auth())).json()
    assert len(remaining) == 1
    response = await client.delete("/printnode/printjobs", auth=account.auth())
    assert "Name the print jobs" in assert_printnode_error(response, 400, "BadRequest")


async def test_authentication_is_required_and_a_bad_key_is_refused(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/printnode/whoami")
    bad = await client.get("/printnode/whoami", auth=("pk_live_nope", ""))

    assert_printnode_error(missing, 401, "Unauthorized")
    assert_printnode_error(bad, 401, "Unauthorized")


async def test_permissions_are_those_of_our_api(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    read_only = account.auth(Permission.READ_ONLY)
    print_only = account.auth(Permission.PRINT_ONLY)

    assert (await client.get("/printnode/printers", auth=read_only)).status_code == 200
    refused = await client.post("/printnode/printjobs", auth=read_only, json=pn_job(printer))
    assert_printnode_error(refused, 403, "Forbidden")
    posted = await client.post("/printnode/printjobs", auth=print_only, json=pn_job(printer))
    assert posted.status_code == 201
    refused = await client.delete(f"/printnode/printjobs/{posted.json()}", auth=print_only)
    assert_printnode_error(refused, 403, "Forbidden")
    deleted = await client.delete(f"/printnode/printjobs/{posted.json()}", auth=account.auth())
    assert deleted.json() == [posted.json()]


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ("X-Child-Account-By-Id", 400, "BadRequest"),
        ("X-Child-Account-By-Email", 400, "BadRequest"),
        ("X-Child-Account-By-CreatorRef", 400, "BadRequest"),
        ("X-Auth-With-Account-Credentials", 401, "Unauthorized"),
        ("X-Auth-With-Client-Key", 401, "Unauthorized"),
    ],
)
async def test_child_accounts_and_other_logins_are_refused(
    client: httpx.AsyncClient, account: TestAccount, header: str, status: int, code: str
) -> None:
    response = await client.get("/printnode/whoami", auth=account.auth(), headers={header: "1"})
    assert header in assert_printnode_error(response, status, code)


async def test_another_accounts_ids_are_simply_not_found(
    client: httpx.AsyncClient,
    runtime: Runtime,
    account: TestAccount,
    other_account: TestAccount,
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    await other_account.add_computer(runtime, "Theirs", ("Their HP",))
    theirs = (await printers_by_name(client, other_account))["Their HP"]
    their_job = await submit(client, other_account, theirs["id"])
    computer = theirs["computer"]["id"]

    for path in (
        f"/printers/{theirs['id']}",
        f"/computers/{computer}",
        f"/computers/{computer}/printers",
        f"/printjobs/{their_job}",
        f"/printers/{theirs['id']}/printjobs",
    ):
        response = await client.get(f"/printnode{path}", auth=account.auth())
        assert response.json() == [], path
    assert (await client.get("/printnode/printjobs/states", auth=account.auth())).json() == []
    posted = await client.post(
        "/printnode/printjobs", auth=account.auth(), json=pn_job(theirs["id"])
    )
    assert_printnode_error(posted, 404, "NotFound")
    deleted = await client.delete(f"/printnode/printjobs/{their_job}", auth=account.auth())
    assert deleted.json() == []
    [still] = (await client.get("/api/printjobs", auth=other_account.auth())).json()
    assert still["state"] == "pending"


async def test_endpoints_we_do_not_offer_say_so(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.get("/printnode/credits", auth=account.auth())
    assert "/credits is not offered" in assert_printnode_error(response, 404, "NotFound")


async def test_the_printnode_api_is_not_in_our_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/printnode")]


async def test_deleting_computers_by_set_removes_them_with_their_printers(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("HP",))
    await account.add_computer(runtime, "Home", ("Epson",))
    computers = {
        c["name"]: c["id"]
        for c in (await client.get("/printnode/computers", auth=account.auth())).json()
    }

    refused = await client.delete(
        f"/printnode/computers/{computers['Home']}", auth=account.auth(Permission.PRINT_ONLY)
    )
    assert_printnode_error(refused, 403, "Forbidden")
    deleted = await client.delete(f"/printnode/computers/{computers['Home']}", auth=account.auth())

    assert deleted.json() == [computers["Home"]]
    assert list(await printers_by_name(client, account)) == ["HP"]
    again = await client.delete(f"/printnode/computers/{computers['Home']}", auth=account.auth())
    assert again.json() == []


async def test_a_job_whose_printer_was_removed_keeps_its_printers_name(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    computer = await account.add_computer(runtime, "Office-PC", ("HP",))
    printer = (await printers_by_name(client, account))["HP"]["id"]
    number = await submit(client, account, printer)

    removed = await client.delete(f"/api/computers/{computer.id}", auth=account.auth())
    assert removed.status_code == 200

    [job] = (await client.get(f"/printnode/printjobs/{number}", auth=account.auth())).json()
    assert job["state"] == "error"
    assert job["printer"]["id"] is None
    assert (job["printer"]["name"], job["printer"]["state"]) == ("HP", "deleted")
    assert set(job["printer"]["computer"]) == COMPUTER_FIELDS
