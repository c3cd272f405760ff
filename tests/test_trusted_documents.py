"""Trusted documents (listed by hash, required by a partner's policy) and automatic persisted queries."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from gateway.audit import AuditRecord
from gateway.data import decode_pk, statement_log
from gateway.documents import document_hash
from tests.harness import SECRET, Gateway, running_gateway
from tests.live import dispute_event, newest_dispute_event, serving, subscribed
from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent
PARTNER = "judicial_office"
LISTED = """query Disputes { disputes(first: 3) { nodes { code title parties { name } } } }
query Count { disputes(first: 1) { totalCount } }"""
LIVE = """subscription Live($after: String) { disputeUpdated(afterEvent: $after) { eventId dispute { id } } }"""


@pytest.fixture(scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """The demo gateway where the judicial office runs trusted documents only, and the analyst may use APQ."""
    folder = tmp_path_factory.mktemp("documents")
    policies = Path(shutil.copytree(ROOT / "policies", folder / "policies"))
    read = policies / "scopes" / "dispute-read.yaml"
    read.write_text(read.read_text() + "documents: required\n")
    analyst = policies / "roles" / "city_analyst.yaml"
    analyst.write_text(analyst.read_text() + "documents: automatic\n")
    url = f"sqlite+aiosqlite:///{folder / 'gw.db'}"
    async with running_gateway("sqlite", url, policy_dir=policies) as gateway:
        await gateway.runtime.documents.add(LISTED, "judicial-app")
        await gateway.runtime.documents.add(LIVE, "judicial-app")
        yield gateway


async def _send(gw: Gateway, body: dict[str, Any], role: str = PARTNER) -> httpx.Response:
    return await gw.client.post("/graphql", json=body, headers={"Authorization": f"Bearer {gw.tokens[role]}"})


async def _last_record(gw: Gateway) -> AuditRecord:
    async with gw.runtime.databases.session("gateway") as session:
        return (await session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1))).one()


async def test_a_partner_that_requires_documents_cannot_run_an_unlisted_one(gw: Gateway) -> None:
    response = await _send(gw, {"query": "{ disputes(first: 50) { nodes { code parties { name phone } } } }"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN" and "trusted documents" in error["message"]
    assert (await _last_record(gw)).outcome == "denied"
    unknown = await _send(gw, {"documentId": "sha256:" + "0" * 64})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Registering through APQ is no way around it.
    text = "{ disputes(first: 1) { totalCount } }"
    apq = {"query": text, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}}
    assert (await _send(gw, apq)).json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_listed_document_runs_by_hash_in_either_shape_over_get_and_post(gw: Gateway) -> None:
    digest = document_hash(LISTED)
    by_id = await _send(gw, {"documentId": f"sha256:{digest}", "operationName": "Disputes"})
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["data"]["disputes"]["nodes"], by_id.json()
    record = await _last_record(gw)
    assert (record.document_hash, record.document_client, record.operation_name) == (digest, "judicial-app", "Disputes")
    shape = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    by_apq_shape = await _send(gw, {"extensions": shape, "operationName": "Count"})
    assert by_apq_shape.json()["data"]["disputes"]["totalCount"] >= 1
    get = await gw.client.get(
        "/graphql",
        params={"documentId": f"sha256:{digest}", "operationName": "Count"},
        headers={"Authorization": f"Bearer {gw.tokens[PARTNER]}"},
    )
    assert get.status_code == 200 and get.json()["data"]["disputes"]["totalCount"] >= 1
    # The listed text itself is the same document: it runs too.
    assert (await _send(gw, {"query": LISTED, "operationName": "Count"})).status_code == 200


async def test_a_removed_document_no_longer_runs(gw: Gateway) -> None:
    text = "query Once { disputes(first: 1) { totalCount } }"
    row = await gw.runtime.documents.add(text, "judicial-app")
    assert (await _send(gw, {"documentId": f"sha256:{row.hash}"})).status_code == 200
    assert await gw.runtime.documents.remove(row.hash)
    assert (await _send(gw, {"documentId": f"sha256:{row.hash}"})).status_code == 400


async def test_automatic_persisted_queries_where_the_policy_allows(gw: Gateway) -> None:
    text = "query Streets { streets(first: 2) { nodes { name } } }"
    shape = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text)}}
    first = await _send(gw, {"extensions": shape}, role="city_analyst")
    assert first.status_code == 200
    assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await _send(gw, {"query": text, "extensions": shape}, role="city_analyst")
    assert registered.json()["data"]["streets"]["nodes"]
    again = await _send(gw, {"extensions": shape}, role="city_analyst")
    assert again.json()["data"] == registered.json()["data"]
    # A text that does not validate is not remembered.
    broken = "{ noSuchRoot }"
    broken_shape = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(broken)}}
    assert (await _send(gw, {"query": broken, "extensions": broken_shape}, role="city_analyst")).json()["errors"]
    not_kept = await _send(gw, {"extensions": broken_shape}, role="city_analyst")
    assert not_kept.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    mismatch = await _send(gw, {"query": text + " ", "extensions": shape}, role="city_analyst")
    assert mismatch.status_code == 400 and mismatch.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Where the policy says nothing (open), APQ is not offered: Apollo clients then send the text.
    other = await _send(gw, {"extensions": shape}, role="committee_staff")
    assert other.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    bad = await _send(gw, {"documentId": "sha256:xyz"}, role="committee_staff")
    assert bad.status_code == 400 and "documentId" in bad.json()["errors"][0]["message"]


async def test_a_websocket_subscription_runs_a_listed_document_by_hash(gw: Gateway) -> None:
    query = "{ disputes(first: 100) { nodes { id grid { id community { street { id } } } } } }"
    data = await gw.query(query, role="city_analyst")
    # A dispute of the judicial office's own street (16), which its subscription may see.
    node = next(
        n for n in data["disputes"]["nodes"] if decode_pk(n["grid"]["community"]["street"]["id"], "Street") == 16
    )
    async with serving(gw) as url:
        after = await newest_dispute_event(gw)
        async with subscribed(url, gw.tokens[PARTNER], LIVE, {"after": after}) as receive:
            # Sent as text, the listed subscription is the same document: wait for an event through it.
            await dispute_event(gw, decode_pk(node["id"], "Dispute"), decode_pk(node["grid"]["id"], "Grid"))
            message = await receive()
            assert message["type"] == "next", message
        async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {gw.tokens[PARTNER]}"}}
            await socket.send(json.dumps(init))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            by_hash = {"documentId": f"sha256:{document_hash(LIVE)}", "variables": {"after": after}}
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": by_hash}))
            assert json.loads(await socket.recv())["type"] == "next"
            unlisted = {"query": "subscription { disputeUpdated { eventId } }"}
            await socket.send(json.dumps({"id": "2", "type": "subscribe", "payload": unlisted}))
            refused = json.loads(await socket.recv())
            assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"


def test_documents_add_list_remove_on_the_command_line(tmp_path: Path) -> None:
    env = dict(os.environ, GATEWAY_DB_URL=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}", GATEWAY_SECRET_KEY=SECRET)
    run(env, "db", "upgrade")
    document = tmp_path / "rental.graphql"
    document.write_text(LISTED)
    added = run(env, "documents", "add", str(document), "--client", "rental-app").stdout
    assert f"sha256:{document_hash(LISTED)}" in added and "Disputes,Count" in added
    assert "rental-app" in run(env, "documents", "list").stdout
    broken = tmp_path / "broken.graphql"
    broken.write_text("{ noSuchField }")
    failed = run(env, "documents", "add", str(broken), "--client", "rental-app", check=False)
    assert failed.returncode == 2 and "does not validate" in failed.stderr
    assert "removed" in run(env, "documents", "remove", f"sha256:{document_hash(LISTED)}").stdout
    assert run(env, "documents", "list").stdout.strip() == ""
    assert run(env, "documents", "remove", document_hash(LISTED), check=False).returncode == 1


async def test_a_document_by_hash_costs_one_statement_more_than_its_text(gw: Gateway) -> None:
    async def statements(body: dict[str, Any]) -> int:
        log: list[str] = []
        token = statement_log.set(log)
        try:
            response = await _send(gw, body, role="committee_staff")
        finally:
            statement_log.reset(token)
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        return len(log)

    await statements({"query": LISTED, "operationName": "Count"})  # the token is read once, then held live
    by_text = await statements({"query": LISTED, "operationName": "Count"})
    by_hash = await statements({"documentId": f"sha256:{document_hash(LISTED)}", "operationName": "Count"})
    assert by_hash == by_text + 1
