"""Every operation that touches personal data leaves one audit record — names and ids, never values."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from gateway.audit import AuditRecord
from tests.harness import Gateway


async def _new_records(gw: Gateway, since: int) -> list[AuditRecord]:
    return [r for r in await gw.runtime.audit.tail(50) if r.seq > since]


async def _head(gw: Gateway) -> int:
    last = await gw.runtime.audit.tail(1)
    return last[0].seq if last else 0


async def _run(gw: Gateway, query: str, role: str, **headers: str) -> tuple[dict[str, Any], list[AuditRecord]]:
    before = await _head(gw)
    response = await gw.post(query, role=role, headers=headers)
    return response.json(), await _new_records(gw, before)


async def test_a_read_of_personal_data_is_recorded_without_values(gw: Gateway) -> None:
    body, records = await _run(
        gw,
        "query Roster { residents(first: 5) { nodes { id name idNumber phone } } }",
        "city_analyst",
        **{"X-Purpose": quote("核查户籍 case 2026-118")},
    )
    assert len(records) == 1
    record = records[0]
    assert record.principal_id == "analyst.city" and record.role == "city_analyst"
    assert record.operation_name == "Roster" and record.operation_type == "query" and record.outcome == "ok"
    assert record.purpose == "核查户籍 case 2026-118"
    assert {"Resident.idNumber", "Resident.phone", "Resident.name"} <= set(json.loads(record.fields))
    ids = json.loads(record.row_ids)["Resident"]
    assert len(ids) == 5
    assert record.policy_version == gw.runtime.policies.version
    stored = " ".join(str(getattr(record, c.key)) for c in AuditRecord.__table__.columns)
    for person in body["data"]["residents"]["nodes"]:
        assert person["idNumber"] not in stored and person["phone"] not in stored and person["name"] not in stored


async def test_an_operation_without_personal_data_is_not_recorded(gw: Gateway) -> None:
    _, records = await _run(gw, "{ me { id } districts { nodes { name } } }", "city_analyst")
    assert records == []


async def test_redacted_paths_are_recorded(gw: Gateway) -> None:
    body, records = await _run(gw, "{ disputes(first: 100) { nodes { parties { phone } } } }", "committee_staff")
    assert len(records) == 1
    assert json.loads(records[0].redacted) == body["extensions"]["redacted"]


async def test_asking_for_a_hidden_field_is_recorded_as_denied(gw: Gateway) -> None:
    body, records = await _run(gw, "{ residents { nodes { idNumber } } }", "grid_worker")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert len(records) == 1 and records[0].outcome == "denied"
    assert json.loads(records[0].denied) == ["Resident.idNumber"]
    _, unknown = await _run(gw, "{ residents { nodes { shoeSize } } }", "grid_worker")
    assert unknown == [], "a field no schema has is a typo, not an access attempt"


async def test_the_auditor_reads_the_trail_and_it_verifies(gw: Gateway) -> None:
    await gw.query("{ residents(first: 2) { nodes { name } } }")
    data = await gw.query(
        '{ auditLog(first: 100, filter: {principalId: "analyst.city"}) { totalCount nodes { seq principalId fields '
        "rowIds { type ids } outcome hash prevHash } } }",
        role="auditor",
    )
    nodes = data["auditLog"]["nodes"]
    assert nodes and all(n["principalId"] == "analyst.city" for n in nodes)
    assert any(r["type"] == "Resident" for n in nodes for r in n["rowIds"])
    errors = await gw.errors("{ auditLog { totalCount } }", role="city_analyst")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    report = await gw.runtime.audit.verify()
    assert report.ok and report.count >= len(nodes)
