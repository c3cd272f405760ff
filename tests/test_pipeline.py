"""One pipeline for every operation: what holds over HTTP holds on the socket, and a failed write frees its key."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.data import decode_pk
from gateway.write.tables import IdempotencyRecord
from resolvers.population.tables import Resident
from tests.harness import Gateway
from tests.live import dispute_event, newest_dispute_event, serving

SUBSCRIPTION = """subscription Live($after: String) {
  disputeUpdated(afterEvent: $after) { eventId kind dispute { id parties { name phone } } }
}"""


@pytest.fixture
async def url(gw: Gateway) -> AsyncIterator[str]:
    async with serving(gw) as address:
        yield address


async def _open(url: str, payload: dict[str, Any]) -> Any:
    socket = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    return socket


async def test_a_partner_socket_without_a_purpose_is_refused_when_purposes_are_mandatory(gw: Gateway, url: str) -> None:
    gw.runtime.settings.require_purpose_for_partners = True
    try:
        socket = await _open(url, {"Authorization": f"Bearer {gw.tokens['judicial_office']}"})
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4400 and "purpose" in closed.value.rcvd.reason
        staff = await _open(url, {"Authorization": f"Bearer {gw.tokens['committee_staff']}"})
        assert json.loads(await asyncio.wait_for(staff.recv(), timeout=10))["type"] == "connection_ack"
        await staff.close()
    finally:
        gw.runtime.settings.require_purpose_for_partners = False


async def test_each_event_delivered_on_a_socket_records_the_declared_purpose(gw: Gateway, url: str) -> None:
    data = await gw.query("{ disputes(first: 1) { nodes { id grid { id } } } }", role="judicial_office")
    node = data["disputes"]["nodes"][0]
    dispute_id, grid_id = decode_pk(node["id"], "Dispute"), decode_pk(node["grid"]["id"], "Grid")
    last = await gw.runtime.audit.tail(1)
    before = last[0].seq if last else 0
    purpose = "调解 case 2026-041"
    gw.runtime.settings.require_purpose_for_partners = True
    try:
        socket = await _open(
            url, {"Authorization": f"Bearer {gw.tokens['judicial_office']}", "X-Purpose": quote(purpose)}
        )
        assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["type"] == "connection_ack"
        after = await newest_dispute_event(gw)
        await dispute_event(gw, dispute_id, grid_id)
        payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
        await socket.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert message["type"] == "next", message
        assert message["payload"]["data"]["disputeUpdated"]["dispute"]["id"] == node["id"]
        await socket.close()
    finally:
        gw.runtime.settings.require_purpose_for_partners = False
    records = [r for r in await gw.runtime.audit.tail(20) if r.seq > before and r.operation_type == "subscription"]
    assert records, "the delivery left no audit record"
    assert {r.purpose for r in records} == {purpose}
    assert all(r.operation_name == "Live" for r in records)


ACCEPT = "mutation Accept($id: ID!) { acceptDispute(input: {disputeId: $id, expectedVersion: 999}) { dispute { id } } }"


async def _claims(gw: Gateway, key: str) -> list[IdempotencyRecord]:
    async with gw.runtime.databases.session("gateway") as session:
        found = await session.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        return list(found.scalars())


async def test_a_mutation_that_fails_leaves_its_idempotency_key_free_for_a_retry(gw: Gateway) -> None:
    data = await gw.query("{ disputes(first: 1) { nodes { id } } }", role="committee_staff")
    variables = {"id": data["disputes"]["nodes"][0]["id"]}
    headers = {"Authorization": f"Bearer {gw.tokens['committee_staff']}", "Idempotency-Key": "retry-me-1"}
    for _ in range(2):
        response = await gw.client.post("/graphql", json={"query": ACCEPT, "variables": variables}, headers=headers)
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "CONFLICT", body
        assert not (body.get("data") or {}).get("acceptDispute")
        assert "Idempotent-Replayed" not in response.headers, "a failed write must run again, not be replayed"
        assert await _claims(gw, "retry-me-1") == []


async def test_a_mutation_that_succeeds_is_replayed_for_its_key(gw: Gateway) -> None:
    data = await gw.query(
        "{ disputes(first: 1, filter: {status: REPORTED}) { nodes { id version } } }", role="committee_staff"
    )
    nodes = data["disputes"]["nodes"]
    if not nodes:
        pytest.skip("no reported dispute left in the committee's area")
    query = ACCEPT.replace("expectedVersion: 999", "expectedVersion: $version").replace(
        "($id: ID!)", "($id: ID!, $version: Int)"
    )
    variables = {"id": nodes[0]["id"], "version": nodes[0]["version"]}
    headers = {"Authorization": f"Bearer {gw.tokens['committee_staff']}", "Idempotency-Key": "once-only-1"}
    first = await gw.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert "errors" not in first.json(), first.json()
    again = await gw.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    assert [claim.status for claim in await _claims(gw, "once-only-1")] == ["done"]


async def test_a_socket_purpose_with_control_characters_is_refused_before_anything_runs(gw: Gateway, url: str) -> None:
    for purpose in ("%00", "case\r\n7", "%0D%0Ainjected", "%E2%80%AEevil", "line%E2%80%A8two", 7, ["a"]):
        socket = await _open(url, {"Authorization": f"Bearer {gw.tokens['judicial_office']}", "X-Purpose": purpose})
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400, purpose
        assert "X-Purpose" in closed.value.rcvd.reason, closed.value.rcvd.reason


REPORT = "mutation Report($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"


async def test_a_stored_answer_is_replayed_only_to_the_token_that_wrote_it(gw: Gateway) -> None:
    own = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
    grid = own["residents"]["nodes"][0]["grid"]["id"]
    given = {"title": "楼道堆物", "category": "NEIGHBOUR", "description": "楼道堆放杂物", "gridId": grid,
             "parties": [{"role": "COMPLAINANT", "name": "王桂兰"}]}  # fmt: skip
    body = {"query": REPORT, "variables": {"input": given}}
    first = {"Authorization": f"Bearer {gw.tokens['committee_staff']}", "Idempotency-Key": "one-token-1"}
    written = await gw.client.post("/graphql", json=body, headers=first)
    assert "errors" not in written.json(), written.json()
    mine = await gw.client.post("/graphql", json=body, headers=first)
    assert mine.headers.get("Idempotent-Replayed") == "true" and mine.json() == written.json()
    record = await gw.runtime.directory.find("committee.demo")
    assert record is not None
    other = await gw.runtime.tokens.issue(record.id, timedelta(hours=1), record.scopes)
    again = await gw.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "one-token-1"}
    )
    assert "Idempotent-Replayed" not in again.headers, "another token got the stored answer"
    assert (
        again.json()["data"]["reportDispute"]["dispute"]["id"]
        != written.json()["data"]["reportDispute"]["dispute"]["id"]
    )


async def test_a_stored_answer_is_sealed_and_not_replayed_once_the_reader_s_policy_changed(gw: Gateway) -> None:
    own = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
    grid = own["residents"]["nodes"][0]["grid"]["id"]
    given = {"title": "楼道堆物", "category": "NEIGHBOUR", "description": "楼道堆放杂物", "gridId": grid,
             "parties": [{"role": "COMPLAINANT", "name": "王桂兰", "phone": "13512345678"}]}  # fmt: skip
    query = REPORT.replace("dispute { id }", "dispute { id parties { phone } }")
    body = {"query": query, "variables": {"input": given}}
    headers = {"Authorization": f"Bearer {gw.tokens['committee_staff']}", "Idempotency-Key": "sealed-1"}
    written = await gw.client.post("/graphql", json=body, headers=headers)
    assert "errors" not in written.json(), written.json()
    [claim] = await _claims(gw, "sealed-1")
    assert claim.response is not None
    assert "13512345678" not in claim.response and written.json()["data"]["reportDispute"]["dispute"]["id"] not in (
        claim.response
    ), "the stored answer is sealed, not kept in clear"
    replayed = await gw.client.post("/graphql", json=body, headers=headers)
    assert replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json() == written.json()

    gw.runtime.install(dataclasses.replace(gw.runtime.policies, version="changed-for-test"))
    after = await gw.client.post("/graphql", json=body, headers=headers)
    assert "Idempotent-Replayed" not in after.headers, "an answer read under the old policy was handed out again"
    [error] = after.json()["errors"]
    assert error["extensions"]["code"] == "CONFLICT" and "read the record" in error["message"]
    assert [c.status for c in await _claims(gw, "sealed-1")] == ["done"], "nothing was written twice"


UPDATE_PHONE = """mutation Update($input: UpdateResidentInput!) {
  updateResident(input: $input) { resident { id phone version } } }"""


async def test_a_replay_names_its_rows_in_the_audit_and_is_refused_once_a_row_left_the_caller_s_sight(
    gw: Gateway,
) -> None:
    own = await gw.query("{ residents(first: 1) { nodes { id version } } }", role="committee_staff")
    resident = own["residents"]["nodes"][0]
    pk = decode_pk(resident["id"], "Resident")
    async with gw.runtime.databases.session("population") as session:
        kept = (
            await session.execute(select(Resident.grid_id, Resident.phone, Resident.version).where(Resident.id == pk))
        ).one()
    body = {"query": UPDATE_PHONE, "variables": {"input": {"residentId": resident["id"], "phone": "13600001234",
                                                           "expectedVersion": resident["version"]}}}  # fmt: skip
    headers = {"Authorization": f"Bearer {gw.tokens['committee_staff']}", "Idempotency-Key": "moves-away-1"}
    try:
        written = await gw.client.post("/graphql", json=body, headers=headers)
        assert "errors" not in written.json(), written.json()
        replayed = await gw.client.post("/graphql", json=body, headers=headers)
        assert replayed.headers.get("Idempotent-Replayed") == "true"
        [record] = await gw.runtime.audit.tail(1)
        assert json.loads(record.row_ids) == {"Resident": [pk]}, "the replay's audit record names the rows it shows"
        # The resident moves to a grid outside the committee's community.
        async with gw.runtime.databases.session("population") as session, session.begin():
            await session.execute(update(Resident).where(Resident.id == pk).values(grid_id=18))
        after = await gw.client.post("/graphql", json=body, headers=headers)
        assert "Idempotent-Replayed" not in after.headers, "the answer showed a resident the caller can no longer read"
        assert after.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert "13600001234" not in after.text
    finally:
        # The demo data is shared by this module's other tests (and linked parties read this phone).
        async with gw.runtime.databases.session("population") as session, session.begin():
            await session.execute(
                update(Resident)
                .where(Resident.id == pk)
                .values(grid_id=kept.grid_id, phone=kept.phone, version=kept.version)
            )


async def test_an_http_purpose_with_invisible_characters_is_refused_before_anything_runs(gw: Gateway) -> None:
    # bidi override, line separator, zero-width space, Hangul filler, Braille blank, no-break space, em space
    for purpose in ("%E2%80%AE%E5%85%A5%E6%88%B7", "a%E2%80%A8b", "x%E2%80%8Bz", "a%E3%85%A4b", "a%E2%A0%80b",
                    "a%C2%A0b", "a%E2%80%83b"):  # fmt: skip
        response = await gw.client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {gw.tokens['committee_staff']}", "X-Purpose": purpose},
        )
        assert response.status_code == 400, purpose
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
