from __future__ import annotations

import httpx

from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount


async def test_printers_lists_every_printer_of_every_computer(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    office = await account.add_computer(runtime, "Office-PC", ("HP LaserJet Pro", "Zebra"))
    await account.add_computer(runtime, "Warehouse", ("Epson TM",), state="offline")

    response = await client.get("/api/printers", auth=account.auth())

    assert response.status_code == 200
    printers = response.json()
    assert sorted(p["name"] for p in printers) == ["Epson TM", "HP LaserJet Pro", "Zebra"]
    hp = next(p for p in printers if p["name"] == "HP LaserJet Pro")
    assert hp["computerId"] == office.id
    assert hp["state"] == "online"
    assert hp["isDefault"] is True
    assert hp["capabilities"] == {
        "color": True,
        "duplex": True,
        "media": ["A4", "Letter"],
        "bins": ["Tray 1", "Manual"],
    }
    assert set(hp) >= {"id", "name", "computerId", "state", "isDefault", "capabilities"}


async def test_printers_by_ids_answers_those_printers(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    await account.add_computer(runtime, "Office-PC", ("A", "B", "C"))
    everything = (await client.get("/api/printers", auth=account.auth())).json()
    wanted = [p["id"] for p in everything if p["name"] in ("A", "C")]

    response = await client.get(f"/api/printers/{','.join(wanted)}", auth=account.auth())

    assert response.status_code == 200
    assert sorted(p["name"] for p in response.json()) == ["A", "C"]


async def test_printers_by_unknown_ids_is_not_found(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.get("/api/printers/prn_nope,prn_none", auth=account.auth())
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


async def test_computers_list_with_their_printers(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    office = await account.add_computer(runtime, "Office-PC", ("HP", "Zebra"))

    response = await client.get("/api/computers", auth=account.auth())

    assert response.status_code == 200
    [computer] = response.json()
    assert computer["id"] == office.id
    assert computer["name"] == "Office-PC"
    assert computer["os"] == "Linux"
    assert computer["state"] == "online"
    assert computer["clientVersion"] == "1.0.0"
    assert computer["lastSeenAt"].endswith("Z")
    assert sorted(p["name"] for p in computer["printers"]) == ["HP", "Zebra"]


async def test_printers_of_one_computer(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    office = await account.add_computer(runtime, "Office-PC", ("HP",))
    await account.add_computer(runtime, "Other", ("Zebra",))

    response = await client.get(f"/api/computers/{office.id}/printers", auth=account.auth())

    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["HP"]
    missing = await client.get("/api/computers/cmp_missing/printers", auth=account.auth())
    assert missing.status_code == 404


async def test_delete_computers_removes_them_and_their_printers(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    first = await account.add_computer(runtime, "First", ("A",))
    second = await account.add_computer(runtime, "Second", ("B",))
    kept = await account.add_computer(runtime, "Kept", ("C",))

    response = await client.delete(
        f"/api/computers/{first.id},{second.id},cmp_unknown", auth=account.auth()
    )

    assert response.status_code == 200
    assert response.json() == [first.id, second.id]
    computers = (await client.get("/api/computers", auth=account.auth())).json()
    assert [c["id"] for c in computers] == [kept.id]
    printers = (await client.get("/api/printers", auth=account.auth())).json()
    assert [p["name"] for p in printers] == ["C"]


async def test_delete_unknown_computers_is_not_found(
    client: httpx.AsyncClient, account: TestAccount
) -> None:
    response = await client.delete("/api/computers/cmp_a,cmp_b", auth=account.auth())
    assert response.status_code == 404
    assert response.json() == {
        "code": "NotFound",
        "message": "No computer found with the id cmp_a, cmp_b",
    }


async def test_deleting_a_computer_ends_its_unfinished_jobs_in_error(
    client: httpx.AsyncClient, runtime: Runtime, account: TestAccount
) -> None:
    office = await account.add_computer(runtime, "Office-PC", ("HP",))
    [printer] = (await client.get("/api/printers", auth=account.auth())).json()
    job = (
        await client.post(
            "/api/printjobs",
            auth=account.auth(),
            json={
                "printerId": printer["id"],
                "contentType": "raw_base64",
                "content": "XlhBXkZTXlha",
            },
        )
    ).json()

    await client.delete(f"/api/computers/{office.id}", auth=account.auth())

    [kept] = (await client.get(f"/api/printjobs/{job}", auth=account.auth())).json()
    assert kept["state"] == "error"
    assert kept["printer"] == {"id": None, "name": "HP"}
    states = (await client.get(f"/api/printjobs/{job}/states", auth=account.auth())).json()
    assert [s["state"] for s in states] == ["pending", "error"]
    assert states[-1]["message"] == "The computer was removed from the account"
