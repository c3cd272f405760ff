"""一次变更全网更新: a party to a dispute who is a registered resident is a link to the resident
record, not a copy. The officer changes 张志远's phone once; every dispute he is party to shows the
new number at once, to every reader under that reader's own rule: in clear to the officer and the
committee, masked to the grid worker, as a party's phone to the judicial office (which reads no
population records). A reader whose Resident rows do not hold the person gets nothing through the
link, and the response says so. People who are not registered remain parties by name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.data import decode_pk, encode_id
from resolvers.dispute import tables as dt
from resolvers.population import tables as pt
from resolvers.seed import demo
from tests.harness import Gateway, database_url, running_gateway

PARTIES = """
query($id: ID!) {
  dispute(id: $id) { parties { role name phone resident { id } } }
}
"""
UPDATE = """
mutation($input: UpdateResidentInput!) { updateResident(input: $input) { resident { phone version } } }
"""
REPORT = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"
VERSION = "query($id: ID!) { resident(id: $id) { version } }"

ZHANG = encode_id("Resident", 1)  # 张志远, whose burst pipe flooded 刘建华's flat (dispute 3)
BURST_PIPE = encode_id("Dispute", 3)
CHARGING = encode_id("Dispute", 6)  # grid 18, 丽湖苑: the committee's street, not its community
NEW_PHONE = "13699990001"


@pytest.fixture(scope="module")
def story_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("change-once"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(story_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*story_url) as gateway:
        yield gateway


async def _zhang(gw: Gateway, dispute: str, role: str) -> dict[str, Any]:
    parties = (await gw.query(PARTIES, {"id": dispute}, role=role))["dispute"]["parties"]
    return next(p for p in parties if p["role"] == "RESPONDENT")


async def test_a_phone_changed_once_shows_in_every_dispute(gw: Gateway) -> None:
    # The committee registers a second dispute with 张志远 as a party: by his record, not a copy.
    report = {
        "title": "阳台晾衣滴水",
        "category": "NEIGHBOUR",
        "description": "楼下反映楼上阳台晾衣滴水。",
        "gridId": encode_id("Grid", 15),
        "parties": [{"role": "COMPLAINANT", "name": "楼下住户"}, {"role": "RESPONDENT", "residentId": ZHANG}],
    }
    second = (await gw.query(REPORT, {"input": report}, role="committee_staff"))["reportDispute"]["dispute"]["id"]
    async with gw.runtime.databases.session("dispute") as session:
        stored = (await session.execute(select(dt.DisputeParty).where(dt.DisputeParty.resident_id == 1))).scalars()
        assert {(p.name, p.phone, p.id_number) for p in stored} == {(None, None, None)}, "no copy is kept"

    version = (await gw.query(VERSION, {"id": ZHANG}, role="community_police"))["resident"]["version"]
    change = {"residentId": ZHANG, "expectedVersion": version, "phone": NEW_PHONE}
    assert (await gw.query(UPDATE, {"input": change}, role="community_police"))["updateResident"]["resident"][
        "phone"
    ] == NEW_PHONE

    for dispute in (BURST_PIPE, second):
        assert await _zhang(gw, dispute, "community_police") == {
            "role": "RESPONDENT",
            "name": "张志远",
            "phone": NEW_PHONE,
            "resident": {"id": ZHANG},
        }
        assert (await _zhang(gw, dispute, "committee_staff"))["phone"] == NEW_PHONE
        assert (await _zhang(gw, dispute, "grid_worker"))["phone"] == "136****0001"
    # The judicial office reads no population records, but does read its disputes' parties.
    judicial = (await gw.query("query($id: ID!) { dispute(id: $id) { parties { role name phone } } }", {"id": second},
                               role="judicial_office"))["dispute"]["parties"]  # fmt: skip
    assert {"role": "RESPONDENT", "name": "张志远", "phone": NEW_PHONE} in judicial


async def test_a_resident_outside_the_readers_rows_is_withheld_and_said_so(gw: Gateway) -> None:
    query = "query($id: ID!) { dispute(id: $id) { parties { name } } }"
    body = (await gw.post(query, {"id": CHARGING}, role="committee_staff")).json()
    assert [p["name"] for p in body["data"]["dispute"]["parties"]] == [None, None]
    assert body["extensions"]["redacted"] == ["dispute.parties.0.name", "dispute.parties.1.name"]
    names = (await gw.query(query, {"id": CHARGING}))["dispute"]["parties"]
    assert all(p["name"] for p in names), "the analyst reads them"


async def test_a_resident_party_is_named_by_id_alone(gw: Gateway) -> None:
    report = {
        "title": "x",
        "category": "OTHER",
        "description": "x",
        "gridId": encode_id("Grid", 15),
        "parties": [{"role": "COMPLAINANT", "name": "张志远", "residentId": ZHANG}],
    }
    errors = await gw.errors(REPORT, {"input": report}, role="committee_staff")
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "input.parties[0].name"}


async def test_a_guest_who_matched_a_resident_and_a_vehicle_owner_follow_the_record(gw: Gateway) -> None:
    member = demo.resident(17)  # 陈燕, in police.demo's area
    sent = {
        "propertyId": encode_id("RentalProperty", 2),
        "guestName": member["name"],
        "guestIdNumber": member["id_number"],
    }
    check_in = "mutation($input: CheckInGuestInput!) { checkInGuest(input: $input) { checkInId } }"
    ident = (await gw.query(check_in, {"input": sent}, role="rental_platform"))["checkInGuest"]["checkInId"]
    async with gw.runtime.databases.session("population") as session:
        row = await session.get(pt.GuestCheckIn, decode_pk(ident, "GuestCheckIn"))
        assert row is not None and (row.guest_name, row.guest_id_number, row.resident_id) == (None, None, 17)
    resident = encode_id("Resident", 17)
    version = (await gw.query(VERSION, {"id": resident}, role="community_police"))["resident"]["version"]
    rename = "mutation($input: UpdateResidentInput!) { updateResident(input: $input) { resident { name } } }"
    await gw.query(rename, {"input": {"residentId": resident, "expectedVersion": version, "name": "陈燕燕"}},
                   role="community_police")  # fmt: skip
    read = "query($id: ID!) { node(id: $id) { ... on GuestCheckIn { guestName guestIdNumber } } }"
    guest = (await gw.query(read, {"id": ident}, role="community_police"))["node"]
    assert guest == {"guestName": "陈燕燕", "guestIdNumber": member["id_number"]}

    # A vehicle's owner has always been a link: the new phone shows there too.
    owner = "query($id: ID!) { node(id: $id) { ... on Vehicle { owner { phone } } } }"
    version = (await gw.query(VERSION, {"id": encode_id("Resident", 16)}, role="community_police"))["resident"][
        "version"
    ]
    change = {"residentId": encode_id("Resident", 16), "expectedVersion": version, "phone": "13699990002"}
    await gw.query(UPDATE, {"input": change}, role="community_police")
    vehicle = {"id": encode_id("Vehicle", 1)}
    assert (await gw.query(owner, vehicle, role="community_police"))["node"]["owner"] == {"phone": "13699990002"}
