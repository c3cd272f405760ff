"""Each principal gets only what its policy grants: the done-when checks of the policy milestone."""

from __future__ import annotations

import re
from typing import Any

from gateway.data import encode_id
from tests.harness import Gateway

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
FULL_ID = re.compile(r"^\d{17}[\dX]$")


async def _introspected_fields(gw: Gateway, role: str, type_name: str) -> set[str] | None:
    data = await gw.query("query($t: String!) { __type(name: $t) { fields { name } } }", {"t": type_name}, role)
    found = data["__type"]
    return None if found is None else {f["name"] for f in found["fields"]}


async def _analyst_residents_of(gw: Gateway, area: dict[str, str]) -> list[dict[str, Any]]:
    query = "query($a: AreaFilter) { residents(first: 100, filter: {area: $a}) { nodes { id idNumber grid { id } } } }"
    return list((await gw.query(query, {"a": area}))["residents"]["nodes"])


async def test_grid_worker_asking_for_id_number_fails_validation_without_suggestion(gw: Gateway) -> None:
    errors = await gw.errors("{ residents { nodes { name idNumber } } }", role="grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot query field 'idNumber'" in errors[0]["message"]
    assert "Did you mean" not in str(errors)
    near_miss = await gw.errors("{ residents { nodes { idNumbe } } }", role="grid_worker")
    assert "idNumber" not in str(near_miss), "no suggestion may name a hidden field"


async def test_grid_worker_introspection_has_no_id_number_to_read(gw: Gateway) -> None:
    fields = await _introspected_fields(gw, "grid_worker", "Resident")
    assert fields is not None and "name" in fields and "idNumber" not in fields
    full = await gw.client.post(
        "/graphql",
        json={
            "query": "{ __schema { queryType { fields { name } } types { name kind fields { name } inputFields { name } } } }"
        },
        headers={"Authorization": f"Bearer {gw.tokens['grid_worker']}"},
    )
    schema = full.json()["data"]["__schema"]
    readable = {t["name"]: t for t in schema["types"] if t["kind"] == "OBJECT"}
    for name, named in readable.items():
        assert not {"idNumber", "birthDate", "watchFlag", "criminalFlag"} & {f["name"] for f in named["fields"]}, name
    assert "residentByIdNumber" not in {f["name"] for f in schema["queryType"]["fields"]}
    filters = next(t for t in schema["types"] if t["name"] == "ResidentFilter")
    assert "idNumber" not in {f["name"] for f in filters["inputFields"]}, "no look-up by a field it may not read"
    assert not {"Vehicle", "PlateAlert"} & set(readable)


async def test_committee_staff_sees_masked_ids_of_its_own_community_only(gw: Gateway) -> None:
    me = await gw.query("{ me { area { kind gridCount } } }", role="committee_staff")
    assert me["me"]["area"]["kind"] == "community"
    query = "{ residents(first: 100) { totalCount nodes { id idNumber grid { id community { id } } } } }"
    data = (await gw.query(query, role="committee_staff"))["residents"]
    nodes = data["nodes"]
    assert nodes and data["totalCount"] == len(nodes)
    assert all(MASKED_ID.match(n["idNumber"]) for n in nodes)
    communities = {n["grid"]["community"]["id"] for n in nodes}
    assert len(communities) == 1
    expected = await _analyst_residents_of(gw, {"communityId": communities.pop()})
    assert {n["id"] for n in nodes} == {n["id"] for n in expected}
    raw = {n["id"]: n["idNumber"] for n in expected}
    assert all(n["idNumber"] == raw[n["id"]][:6] + "********" + raw[n["id"]][14:] for n in nodes)


async def test_committee_staff_cannot_reach_a_resident_outside_its_community(gw: Gateway) -> None:
    mine = (await gw.query("{ residents(first: 100) { nodes { id } } }", role="committee_staff"))["residents"]["nodes"]
    every = (await gw.query("{ residents(first: 100) { nodes { id } } }"))["residents"]["nodes"]
    outside = next(r["id"] for r in every if r["id"] not in {m["id"] for m in mine})
    data = await gw.query(
        "query($id: ID!) { node(id: $id) { id } resident(id: $id) { id } }", {"id": outside}, role="committee_staff"
    )
    assert data == {"node": None, "resident": None}, "a hidden row reads exactly like a missing one"
    missing = await gw.query(
        "query($id: ID!) { node(id: $id) { id } resident(id: $id) { id } }",
        {"id": encode_id("Resident", 10**9)},
        role="committee_staff",
    )
    assert missing == data


async def test_lists_counts_and_nested_lists_agree_for_each_role(gw: Gateway) -> None:
    query = "{ residents(first: 100) { totalCount nodes { id } } grids(first: 100) { nodes { residents(first: 100) { nodes { id } } } } }"
    for role in ("city_analyst", "community_police", "committee_staff"):
        data = await gw.query(query, role=role)
        listed = {n["id"] for n in data["residents"]["nodes"]}
        nested = {r["id"] for g in data["grids"]["nodes"] for r in g["residents"]["nodes"]}
        assert data["residents"]["totalCount"] == len(listed) == len(nested), role
        assert listed == nested, role
        stats = await gw.query("{ residentStats { total } }", role=role)
        assert stats["residentStats"]["total"] == len(listed), role


async def test_community_police_sees_full_records_of_exactly_its_bound_grids(gw: Gateway) -> None:
    me = (await gw.query("{ me { area { kind gridCount } } }", role="community_police"))["me"]
    assert me["area"]["kind"] == "police_grid"
    data = await gw.query(
        "{ residents(first: 100) { totalCount nodes { id idNumber birthDate watchFlag grid { id policeGrid { id } } } } }",
        role="community_police",
    )
    nodes = data["residents"]["nodes"]
    assert nodes and all(FULL_ID.match(n["idNumber"]) for n in nodes)
    police_grids = {n["grid"]["policeGrid"]["id"] for n in nodes}
    assert len(police_grids) == 1
    expected = await _analyst_residents_of(gw, {"policeGridId": police_grids.pop()})
    assert {n["id"] for n in nodes} == {n["id"] for n in expected}
    assert len({n["grid"]["id"] for n in expected}) <= me["area"]["gridCount"]


async def test_judicial_office_sees_its_streets_disputes_and_only_the_parties(gw: Gateway) -> None:
    for absent in ("residents", "households", "vehicles", "volunteers", "residentStats"):
        errors = await gw.errors(f"{{ {absent} {{ __typename }} }}", role="judicial_office")
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", absent
    assert await _introspected_fields(gw, "judicial_office", "Resident") is None
    party_fields = await _introspected_fields(gw, "judicial_office", "DisputeParty")
    assert party_fields is not None and "resident" not in party_fields
    data = await gw.query(
        "{ me { area { name } } disputes(first: 100) { totalCount nodes { id grid { community { street { name } } } "
        "parties { name phone idNumber } } } }",
        role="judicial_office",
    )
    disputes = data["disputes"]["nodes"]
    assert disputes and data["disputes"]["totalCount"] == len(disputes)
    assert {d["grid"]["community"]["street"]["name"] for d in disputes} == {data["me"]["area"]["name"]}
    parties = [p for d in disputes for p in d["parties"]]
    assert any(p["phone"] for p in parties)
    assert all(p["idNumber"] is None or MASKED_ID.match(p["idNumber"]) for p in parties)
    every = await gw.query("{ disputes(first: 100) { nodes { id grid { community { street { name } } } } } }")
    in_street = [
        d for d in every["disputes"]["nodes"] if d["grid"]["community"]["street"]["name"] == data["me"]["area"]["name"]
    ]
    assert len(in_street) == len(disputes)


async def test_traffic_camera_reads_nothing_personal(gw: Gateway) -> None:
    data = await gw.query("{ __schema { types { name } queryType { fields { name } } } }", role="traffic_camera")
    roots = {f["name"] for f in data["__schema"]["queryType"]["fields"]}
    assert roots <= {"me", "node"}
    names = {t["name"] for t in data["__schema"]["types"]}
    assert not names & {"Resident", "Household", "Dispute", "DisputeParty", "Vehicle", "Volunteer", "Staff"}


async def test_auditor_sees_no_citizen_data(gw: Gateway) -> None:
    data = await gw.query("{ __schema { types { name } } }", role="auditor")
    names = {t["name"] for t in data["__schema"]["types"]}
    assert not names & {"Resident", "Household", "Dispute", "DisputeParty", "Vehicle", "Volunteer", "Grid"}


async def test_party_phone_is_null_outside_the_committees_own_community_and_reported(gw: Gateway) -> None:
    response = await gw.post(
        "{ disputes(first: 100) { nodes { id grid { community { id } } parties { name phone } } } "
        "me { area { name } } }",
        role="committee_staff",
    )
    body = response.json()
    assert "errors" not in body, body
    disputes = body["data"]["disputes"]["nodes"]
    own = await gw.query("{ residents(first: 1) { nodes { grid { community { id } } } } }", role="committee_staff")
    community = own["residents"]["nodes"][0]["grid"]["community"]["id"]
    inside = [p for d in disputes if d["grid"]["community"]["id"] == community for p in d["parties"]]
    outside = [p for d in disputes if d["grid"]["community"]["id"] != community for p in d["parties"]]
    assert inside and outside, "the demo street has disputes inside and outside the committee's community"
    assert any(p["phone"] for p in inside)
    assert all(p["phone"] is None for p in outside)
    redacted = body.get("extensions", {}).get("redacted", [])
    assert len([path for path in redacted if path.endswith(".phone")]) == len(outside)
    # A resident party living outside the committee's community is read through the link under its
    # Resident rows: the name is withheld too, and said so.
    unnamed = [p for d in disputes for p in d["parties"] if p["name"] is None]
    assert len([path for path in redacted if path.endswith(".name")]) == len(unnamed)
    assert all(path.endswith((".phone", ".name")) and path.startswith("disputes.nodes.") for path in redacted)


async def test_role_row_limit(gw: Gateway) -> None:
    errors = await gw.errors("{ residents(first: 51) { nodes { name } } }", role="grid_worker")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and "50" in errors[0]["message"]
    assert (await gw.query("{ residents(first: 50) { nodes { name } } }", role="grid_worker"))["residents"]


async def test_masked_phone_for_grid_worker(gw: Gateway) -> None:
    data = await gw.query("{ residents(first: 50) { nodes { id phone } } }", role="grid_worker")
    phones = [n["phone"] for n in data["residents"]["nodes"] if n["phone"]]
    assert phones and all(re.fullmatch(r"\d{3}\*{4}\d{4}", p) for p in phones)
