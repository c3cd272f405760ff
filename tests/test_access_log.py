"""``accessLog``: the auditor asks who touched one record, and learns who, when, why and how — nothing more."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from gateway.audit import AuditTouch
from gateway.data import encode_id, statement_log
from tests.harness import Gateway

ACCESS = """
query($id: ID, $resident: ID, $first: Int, $after: String, $last: Int, $filter: AccessFilter) {
  accessLog(recordId: $id, residentId: $resident, first: $first, after: $after, last: $last, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { seq recordedAt principalId role agency purpose operationName kind outcome fieldReads { field read } }
  }
}
"""


async def _committee_resident(gw: Gateway) -> str:
    data = await gw.query("{ residents(first: 1) { nodes { id } } }", role="committee_staff")
    resident_id: str = data["residents"]["nodes"][0]["id"]
    return resident_id


async def _access(gw: Gateway, **variables: Any) -> Any:
    return (await gw.query(ACCESS, variables, role="auditor"))["accessLog"]


async def test_the_auditor_finds_a_committee_read_of_a_resident_masked(gw: Gateway) -> None:
    resident = await _committee_resident(gw)
    before = (await _access(gw, resident=resident))["totalCount"]
    await gw.post(
        "query Counter($id: ID!) { resident(id: $id) { name idNumber } }",
        {"id": resident},
        role="committee_staff",
        headers={"X-Purpose": quote("调解 case 7")},
    )
    # The latest records: other tests of the session read this resident too.
    log = await _access(gw, resident=resident, last=100)
    assert log["totalCount"] == before + 1
    last = log["nodes"][-1]
    assert last["principalId"] == "committee.demo" and last["role"] == "committee_staff"
    assert last["purpose"] == "调解 case 7" and last["operationName"] == "Counter" and last["kind"] == "READ"
    assert {"field": "Resident.idNumber", "read": "MASKED"} in last["fieldReads"]
    assert {"field": "Resident.name", "read": "CLEAR"} in last["fieldReads"]
    # The same answer through recordId, and filters narrow it.
    assert (await _access(gw, id=resident, last=100))["nodes"] == log["nodes"]
    narrowed = await _access(gw, resident=resident, filter={"purpose": "调解 case 7", "role": "committee_staff"})
    assert [n["seq"] for n in narrowed["nodes"]] == [last["seq"]]
    assert (await _access(gw, resident=resident, filter={"role": "traffic_camera"}))["totalCount"] == 0


async def test_a_read_of_another_record_is_not_listed(gw: Gateway) -> None:
    data = await gw.query("{ residents(first: 2) { nodes { id } } }", role="committee_staff")
    mine, other = (n["id"] for n in data["residents"]["nodes"])
    before = (await _access(gw, resident=other))["totalCount"]
    await gw.query("query One($id: ID!) { resident(id: $id) { name } }", {"id": mine}, role="committee_staff")
    assert (await _access(gw, resident=other))["totalCount"] == before


async def test_asking_for_a_hidden_record_by_id_is_listed_as_asked(gw: Gateway) -> None:
    # A resident outside the grid worker's grid: the read answers null, the attempt is on the record's log.
    everyone = await gw.query("{ residents(first: 100) { nodes { id } } }")
    visible = await gw.query("{ residents(first: 50) { nodes { id } } }", role="grid_worker")
    hidden = next(n["id"] for n in everyone["residents"]["nodes"] if n not in visible["residents"]["nodes"])
    answer = await gw.query("query Peek($id: ID!) { node(id: $id) { id } }", {"id": hidden}, role="grid_worker")
    assert answer["node"] is None
    entries = (await _access(gw, resident=hidden, last=100, filter={"role": "grid_worker"}))["nodes"]
    assert entries and entries[-1]["kind"] == "ASKED" and entries[-1]["operationName"] == "Peek"
    assert entries[-1]["fieldReads"] == []


async def test_pages_follow_the_cursor(gw: Gateway) -> None:
    resident = await _committee_resident(gw)
    # A purpose of this test's own: other tests of the session read this resident too.
    purpose = {"purpose": f"cursor walk {uuid.uuid4().hex[:8]}"}
    for _ in range(3):
        await gw.post(
            "query Again($id: ID!) { resident(id: $id) { name } }",
            {"id": resident},
            role="committee_staff",
            headers={"X-Purpose": purpose["purpose"]},
        )
    whole = await _access(gw, resident=resident, first=100, filter=purpose)
    seen: list[int] = []
    after = None
    while True:
        page = await _access(gw, resident=resident, first=2, after=after, filter=purpose)
        seen += [n["seq"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [n["seq"] for n in whole["nodes"]] and len(seen) == 3


async def test_the_lookup_uses_the_index_not_the_trail(gw: Gateway) -> None:
    resident = await _committee_resident(gw)
    log: list[str] = []
    token = statement_log.set(log)
    try:
        await _access(gw, resident=resident, first=10)
    finally:
        statement_log.reset(token)
    # The page and its totalCount, each through the index; nothing else reads the trail.
    search = [s for s in log if "gateway_audit_touch" in s]
    assert len(search) == 2, log
    assert not [s for s in log if "FROM gateway_audit" in s and s not in search], log
    async with gw.runtime.databases.session("gateway") as session:
        keys = set((await session.scalars(select(AuditTouch.key).where(AuditTouch.key.like("Resident:%")))).all())
    assert keys, "every read of a resident is indexed"


async def test_bad_ids_and_other_roles(gw: Gateway) -> None:
    errors = await gw.errors(ACCESS, {"resident": encode_id("Grid", 1)}, role="auditor")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and errors[0]["extensions"]["argument"] == "residentId"
    errors = await gw.errors(ACCESS, {"id": encode_id("Nothing", 1)}, role="auditor")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    errors = await gw.errors(ACCESS, {}, role="auditor")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    for role in ("city_analyst", "committee_staff"):
        errors = await gw.errors(ACCESS, {"resident": encode_id("Resident", 1)}, role=role)
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_the_answer_holds_no_citizen_data(gw: Gateway) -> None:
    resident = await _committee_resident(gw)
    person = await gw.query("query($id: ID!) { resident(id: $id) { name idNumber phone } }", {"id": resident})
    response = await gw.post(ACCESS, {"resident": resident, "first": 100}, role="auditor")
    for value in person["resident"].values():
        assert value not in response.text


def test_access_log_needs_the_audit_page_grant_as_well_as_the_trail() -> None:
    from dataclasses import replace

    from gateway.kernel import load_registry
    from gateway.policy import load_policies
    from gateway.schema import build_schema
    from tests.test_role_snapshots import ROOT

    domains = load_registry().domains
    auditor = load_policies(ROOT / "policies").roles["auditor"]
    fields = build_schema(domains, auditor)._schema.query_type.fields  # type: ignore[union-attr]
    assert "accessLog" in fields and "auditLog" in fields
    closed = replace(auditor, pages=frozenset({"policies"}))
    fields = build_schema(domains, closed)._schema.query_type.fields  # type: ignore[union-attr]
    assert "accessLog" not in fields and "auditLog" in fields
