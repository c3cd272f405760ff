"""Paths beside the main one, found by attacking the gateway with each role's token: bad text,
error messages, hashes a reader could match, and how a copied value's read is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.audit import AuditRecord, operation_hash
from gateway.policy import load_policies
from tests.harness import Gateway


async def _records_of(gw: Gateway, query: str, variables: dict[str, Any] | None, role: str) -> list[AuditRecord]:
    last = await gw.runtime.audit.tail(1)
    before = last[0].seq if last else 0
    await gw.post(query, variables, role=role)
    return [r for r in await gw.runtime.audit.tail(20) if r.seq > before]


async def test_text_no_database_can_store_is_bad_input_before_anything_runs(gw: Gateway) -> None:
    variables = {"f": {"name": "张\u0000三"}}
    body = (await gw.post("query($f: ResidentFilter) { residents(filter: $f) { totalCount } }", variables)).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "$f.name"}, body
    literal = (await gw.post('{ residents(filter: {name: "张\\u0000"}) { totalCount } }')).json()
    assert literal["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "document"}, literal
    # A lone surrogate can only arrive as a JSON escape: the client cannot even encode it.
    raw = '{"query": "query($f: ResidentFilter) { residents(filter: $f) { totalCount } }", "variables": {"f": {"name": "\\ud800"}}}'
    headers = {"Authorization": f"Bearer {gw.tokens['city_analyst']}", "Content-Type": "application/json"}
    lone = (await gw.client.post("/graphql", content=raw.encode(), headers=headers)).json()
    assert lone["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "$f.name"}, lone


async def test_error_messages_never_repeat_what_was_refused(gw: Gateway) -> None:
    number = "120116199210249918"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("query($f: ResidentFilter) { residents(filter: $f) { totalCount } }", {"f": {"gender": number}}),
        ("query($id: ID!) { resident(id: $id) { id } }", {"id": number}),
        ("query($a: String) { residents(after: $a) { totalCount } }", {"a": number}),
        ("query($d: Date) { residents(filter: {registered: {since: $d}}) { totalCount } }", {"d": number}),
    ]
    for query, variables in cases:
        body = (await gw.post(query, variables)).json()
        assert body.get("errors"), body
        assert number not in json.dumps(body, ensure_ascii=False), body


async def test_a_cursor_past_any_real_key_is_bad_input_not_a_crash(gw: Gateway) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b"cursor:99999999999999999999999").decode().rstrip("=")
    body = (await gw.post("query($a: String) { residents(after: $a) { totalCount } }", {"a": cursor})).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}, body


def test_the_operation_hash_is_the_documents_shape_not_its_inline_values() -> None:
    one = '{ residentByIdNumber(idNumber: "120112197805149014") { name } }'
    other = '{ residentByIdNumber(idNumber: "120112197805149022") { name } }'
    assert operation_hash(one) == operation_hash(other)
    assert operation_hash(one) != operation_hash("{ residentByIdNumber(idNumber: $n) { name } }")


async def test_an_auditor_cannot_have_a_guessed_value_hashed_as_a_look_up(gw: Gateway) -> None:
    data = await gw.query("{ residents(first: 1) { nodes { idNumber } } }")
    number = data["residents"]["nodes"][0]["idNumber"]
    (looked_up,) = await _records_of(
        gw, "query($n: String!) { residentByIdNumber(idNumber: $n) { name } }", {"n": number}, "committee_staff"
    )
    probed = await _records_of(gw, "query($n: ID!) { node(id: $n) { id } }", {"n": number}, "auditor")
    look_up_hash = json.loads(looked_up.probes or "[]")[0]["arguments"]["idNumber"]
    auditor_hashes = {h for r in probed for p in json.loads(r.probes or "[]") for h in p["arguments"].values()}
    assert auditor_hashes and look_up_hash not in auditor_hashes


async def test_a_copied_value_is_recorded_as_read_by_its_own_rule(gw: Gateway) -> None:
    (record,) = await _records_of(gw, "{ mediators(first: 5) { nodes { phone } } }", None, "grid_worker")
    assert json.loads(record.access or "{}") == {"Mediator.phone": "masked"}


def test_no_one_who_may_check_a_guest_in_reads_whether_the_number_was_found() -> None:
    """A check-in tests a guest's ID number against the population records; a principal that
    could both make one and read its outcome would have a look-up by ID number without a budget."""
    policies = load_policies(Path("policies"))
    every = {**policies.roles, **{f"scope {name}": p for name, p in policies.scopes.items()}}
    every["all scopes"] = policies.for_scopes(policies.scopes)
    makers = [name for name, policy in every.items() if policy.mutation("checkInGuest") is not None]
    assert makers, "someone checks guests in"
    for name in makers:
        for field in ("verification", "flagged", "matchedResident", "resident"):
            assert every[name].access("GuestCheckIn", field) == "denied", (name, field)
