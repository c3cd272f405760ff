"""What a record says: the token, how each field was read, and every look-up as keyed hashes, per alias."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from gateway.audit import AuditRecord, audit_key, keyed_hash
from gateway.data import encode_id
from tests.harness import Gateway


async def _head(gw: Gateway) -> int:
    return (await gw.runtime.audit.head())[0]


async def _since(gw: Gateway, seq: int) -> list[AuditRecord]:
    return [r for r in await gw.runtime.audit.tail(20) if r.seq > seq]


async def _run(
    gw: Gateway,
    query: str,
    variables: dict[str, Any] | None = None,
    role: str = "committee_staff",
    headers: dict[str, str] | None = None,
) -> tuple[Any, list[AuditRecord]]:
    before = await _head(gw)
    response = await gw.post(query, variables, role=role, headers=headers)
    return response, await _since(gw, before)


async def _id_numbers(gw: Gateway, n: int = 2) -> list[str]:
    data = await gw.query(f"{{ residents(first: {n}) {{ nodes {{ idNumber }} }} }}", role="city_analyst")
    return [node["idNumber"] for node in data["residents"]["nodes"]]


def _stored(record: AuditRecord) -> str:
    return " ".join(str(getattr(record, c.key)) for c in AuditRecord.__table__.columns)


async def test_aliased_probes_of_one_value_show_as_equal_hashes(gw: Gateway) -> None:
    first, second = await _id_numbers(gw)
    query = (
        "query Probe($x: String!) { a: residentByIdNumber(idNumber: $x) { name } "
        f'b: residentByIdNumber(idNumber: "{first}") {{ name }} c: residentByIdNumber(idNumber: "{second}") {{ name }} }}'
    )
    response, records = await _run(gw, query, {"x": first})
    assert response.status_code == 200
    assert len(records) == 1
    record = records[0]
    assert record.operation_name == "Probe"
    probes = {p["path"]: p for p in json.loads(record.probes or "[]")}
    assert set(probes) == {"a", "b", "c"}
    assert {p["field"] for p in probes.values()} == {"Query.residentByIdNumber"}
    hashes = {path: probe["arguments"]["idNumber"] for path, probe in probes.items()}
    assert hashes["a"] == hashes["b"] != hashes["c"]
    assert hashes["a"] == keyed_hash(audit_key(gw.settings), "idNumber\x1f" + first)
    assert first not in _stored(record) and second not in _stored(record)


async def test_the_record_names_the_token_and_how_each_field_was_read(gw: Gateway) -> None:
    _, records = await _run(gw, "query Roster { residents(first: 2) { nodes { name phone idNumber } } }")
    (record,) = records
    assert record.token_id == gw.runtime.tokens.decode(gw.tokens["committee_staff"]).token_id
    reads = json.loads(record.access or "{}")
    assert reads["Resident.idNumber"] == "masked"
    assert reads["Resident.phone"] == "clear" and reads["Resident.name"] == "clear"
    analyst = (await _run(gw, "{ residents(first: 1) { nodes { idNumber } } }", role="city_analyst"))[1][0]
    assert json.loads(analyst.access or "{}") == {"Resident.idNumber": "clear"}
    query = "query($t: String) { auditLog(first: 100, filter: {tokenId: $t}) { nodes { tokenId fieldReads { field read } } } }"
    auditor = await gw.query(query, {"t": record.token_id}, role="auditor")
    nodes = auditor["auditLog"]["nodes"]
    assert nodes and all(node["tokenId"] == record.token_id for node in nodes)
    assert any({"field": "Resident.idNumber", "read": "MASKED"} in node["fieldReads"] for node in nodes)


async def test_look_ups_that_find_nothing_are_recorded(gw: Gateway) -> None:
    missing = encode_id("Resident", 999_999)
    _, by_node = await _run(gw, "query Who($id: ID!) { node(id: $id) { id } }", {"id": missing})
    assert len(by_node) == 1, "a node(id:) probe for a missing row is an access attempt"
    (probe,) = json.loads(by_node[0].probes or "[]")
    assert probe["field"] == "Query.node" and probe["arguments"]["id"] == keyed_hash(
        audit_key(gw.settings), "id\x1f" + missing
    )
    response, by_number = await _run(gw, '{ residentByIdNumber(idNumber: "120101199901019999") { name } }')
    assert response.json()["data"] == {"residentByIdNumber": None}
    assert len(by_number) == 1 and json.loads(by_number[0].row_ids) == {}
    assert "120101199901019999" not in _stored(by_number[0])


async def test_a_refusal_is_recorded_with_the_documents_name_and_arguments(gw: Gateway) -> None:
    (number,) = await _id_numbers(gw, 1)
    response, records = await _run(
        gw, f'query Sneak {{ x: residentByIdNumber(idNumber: "{number}") {{ name }} }}', role="grid_worker"
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    (record,) = records
    assert record.outcome == "denied" and record.operation_name == "Sneak"
    (probe,) = json.loads(record.probes or "[]")
    assert probe["path"] == "x" and probe["arguments"]["idNumber"] == keyed_hash(
        audit_key(gw.settings), "idNumber\x1f" + number
    )
    assert number not in _stored(record)


@pytest.mark.parametrize("purpose", ["%00", "a%0d%0aInjected: 1", "x%1by", "%C2%85", "tab\there"])
async def test_control_characters_in_a_purpose_are_refused_before_anything_runs(gw: Gateway, purpose: str) -> None:
    head = await _head(gw)
    response = await gw.post(
        'mutation { reportDispute(input: {title: "t", category: NEIGHBOUR, description: "d", parties: []}) '
        "{ clientMutationId } }",
        role="committee_staff",
        headers={"X-Purpose": purpose},
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["argument"] == "X-Purpose"
    assert await _head(gw) == head


async def test_a_purpose_in_chinese_still_passes(gw: Gateway) -> None:
    _, records = await _run(
        gw, "{ residents(first: 1) { nodes { name } } }", headers={"X-Purpose": quote("入户走访 2026")}
    )
    assert records[0].purpose == "入户走访 2026"


async def test_the_access_log_holds_no_query_string_or_variables(
    gw: Gateway, caplog: pytest.LogCaptureFixture, access_lines: list[str]
) -> None:
    (number,) = await _id_numbers(gw, 1)
    access_lines.clear()  # only the two requests below
    query = "query Lookup($n: String!) { residentByIdNumber(idNumber: $n) { name } }"
    get = await gw.client.get(
        "/graphql",
        params={"query": query, "variables": json.dumps({"n": number})},
        headers={"Authorization": f"Bearer {gw.tokens['committee_staff']}"},
    )
    assert get.status_code == 200 and "errors" not in get.json()
    await gw.post(query, {"n": number}, role="committee_staff")
    lines = access_lines
    assert len(lines) == 2
    logged = [json.loads(line) for line in lines]
    assert [(e["method"], e["path"], e["status"]) for e in logged] == [
        ("GET", "/graphql", 200),
        ("POST", "/graphql", 200),
    ]
    for line, entry in zip(lines, logged, strict=True):
        assert (entry["principal"], entry["operation"], len(entry["hash"])) == ("committee.demo", "Lookup", 64)
        assert entry["request_id"] and entry["outcome"] == "ok"
        assert number not in line and "query" not in line and "?" not in line


async def test_a_path_or_operation_name_cannot_forge_a_log_line_or_carry_a_number(
    gw: Gateway, access_lines: list[str]
) -> None:
    await gw.client.get("/graphql%0A2026-12-02 GET /graphql 200 1.0ms principal=auditor.city")
    await gw.client.get("/graphql/12011_21978_0514_9014")
    await gw.client.get("/x\u202egnp.exe")
    named = "query a139_2030_8583 { me { id } }"
    await gw.post(named, {}, role="committee_staff")
    lines = access_lines
    assert len(lines) == 4
    entries = [json.loads(line) for line in lines]  # one line each, whatever the path held
    for line, entry in zip(lines, entries, strict=True):
        assert "\n" not in line and "\u202e" not in line, line
        assert sum(ch.isdigit() for ch in entry["path"].replace("%20", "")) <= 5, line
        assert sum(ch.isdigit() for ch in entry.get("operation", "")) <= 5, line
    assert (entries[0]["status"], "principal" in entries[0]) == (404, False), "the forged fields stay in the path"
