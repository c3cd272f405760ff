"""A live session is a request that lasts: revocation, expiry, deactivation, a new area or policy reach open sockets."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.data import decode_pk, encode_id
from gateway.policy import load_policies
from resolvers.dispute import tables as dispute_tables
from resolvers.grid import tables as grid_tables
from tests.harness import DEMO, Gateway
from tests.live import dispute_event, newest_dispute_event, serving

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTION = """subscription Live($after: String) {
  disputeUpdated(afterEvent: $after) { eventId dispute { id parties { name phone } } }
}"""
# The sweep runs every GATEWAY_SESSION_CHECK_SECONDS (0.5 s); a second is the promise.
WITHIN = 1.0


@pytest.fixture
async def url(gw: Gateway) -> AsyncIterator[str]:
    async with serving(gw) as address:
        yield address


async def _socket(url: str, token: str) -> ClientConnection:
    socket = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["type"] == "connection_ack"
    return socket


async def _subscribe(socket: ClientConnection, after: str) -> None:
    payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
    await socket.send(json.dumps({"id": "live", "type": "subscribe", "payload": payload}))


async def _closed(socket: ClientConnection, within: float) -> tuple[int, float]:
    """The close code the server sent, and how long it took; fails if it sends an event instead."""
    since = time.monotonic()
    with pytest.raises(ConnectionClosed):
        message = await asyncio.wait_for(socket.recv(), timeout=within + 5)
        pytest.fail(f"a message reached a socket that should have been closed: {message!r}")
    assert socket.close_code is not None
    return socket.close_code, time.monotonic() - since


async def _token(gw: Gateway, role: str, ttl: timedelta = timedelta(hours=1)) -> str:
    record = await gw.runtime.directory.find(DEMO[role])
    assert record is not None
    return await gw.runtime.tokens.issue(record.id, ttl, record.scopes)


async def test_revoking_a_token_closes_its_open_socket_within_a_second(gw: Gateway, url: str) -> None:
    token = await _token(gw, "community_police")
    socket = await _socket(url, token)
    await _subscribe(socket, await newest_dispute_event(gw))
    me = (
        await gw.client.post(
            "/graphql", json={"query": "{ me { tokenId } }"}, headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert await gw.runtime.tokens.revoke(me["data"]["me"]["tokenId"])
    code, waited = await _closed(socket, WITHIN)
    assert code == 4403 and waited < WITHIN, (code, waited)


async def test_an_expiring_token_closes_its_socket_when_it_expires(gw: Gateway, url: str) -> None:
    socket = await _socket(url, await _token(gw, "community_police", timedelta(seconds=2)))
    await _subscribe(socket, await newest_dispute_event(gw))
    code, waited = await _closed(socket, 2 + WITHIN)
    assert code == 4403 and waited < 2 + WITHIN, (code, waited)


async def _set_active(gw: Gateway, principal_id: str, active: bool) -> None:
    async with gw.runtime.databases.session("grid") as session, session.begin():
        await session.execute(
            update(grid_tables.Staff).where(grid_tables.Staff.principal_id == principal_id).values(active=active)
        )


async def test_disabling_a_principal_closes_its_socket_and_no_event_follows(gw: Gateway, url: str) -> None:
    socket = await _socket(url, await _token(gw, "committee_staff"))
    await _subscribe(socket, await newest_dispute_event(gw))
    await _set_active(gw, DEMO["committee_staff"], False)
    try:
        data = await gw.query("{ disputes(first: 1) { nodes { id grid { id } } } }", role="city_analyst")
        node = data["disputes"]["nodes"][0]
        await dispute_event(gw, decode_pk(node["id"], "Dispute"), decode_pk(node["grid"]["id"], "Grid"))
        code, waited = await _closed(socket, WITHIN)
        assert code == 4403 and waited < WITHIN, (code, waited)
    finally:
        await _set_active(gw, DEMO["committee_staff"], True)


async def _disputes_by_police_grid(gw: Gateway) -> dict[int, tuple[int, int]]:
    """Police grid id → (a dispute id, its grid id), one per police grid that has disputes."""
    found: dict[int, tuple[int, int]] = {}
    async with gw.runtime.databases.session("grid") as session:
        bound = dict(
            (
                await session.execute(select(grid_tables.GridBinding.grid_id, grid_tables.GridBinding.police_grid_id))
            ).all()
        )
    async with gw.runtime.databases.session("dispute") as session:
        rows = (await session.execute(select(dispute_tables.Dispute.id, dispute_tables.Dispute.grid_id))).all()
    for dispute_id, grid_id in rows:
        police_grid = bound.get(grid_id)
        if police_grid is not None:
            found.setdefault(police_grid, (dispute_id, grid_id))
    return found


async def _next_dispute(socket: ClientConnection) -> str:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    assert message["type"] == "next", message
    return str(message["payload"]["data"]["disputeUpdated"]["dispute"]["id"])


async def test_an_officer_moved_to_another_police_grid_gets_the_new_areas_events_only(gw: Gateway, url: str) -> None:
    officer = DEMO["community_police"]
    async with gw.runtime.databases.session("grid") as session:
        own = (
            await session.execute(
                select(grid_tables.Staff.police_grid_id).where(grid_tables.Staff.principal_id == officer)
            )
        ).scalar_one()
    places = await _disputes_by_police_grid(gw)
    assert own in places and len(places) > 1, "the demo data needs disputes under two police grids"
    other = next(pg for pg in places if pg != own)
    socket = await _socket(url, await _token(gw, "community_police"))
    await _subscribe(socket, await newest_dispute_event(gw))
    try:
        async with gw.runtime.databases.session("grid") as session, session.begin():
            await session.execute(
                update(grid_tables.Staff).where(grid_tables.Staff.principal_id == officer).values(police_grid_id=other)
            )
        await dispute_event(gw, *places[own])
        await dispute_event(gw, *places[other])

        assert await _next_dispute(socket) == encode_id("Dispute", places[other][0])
    finally:
        async with gw.runtime.databases.session("grid") as session, session.begin():
            await session.execute(
                update(grid_tables.Staff).where(grid_tables.Staff.principal_id == officer).values(police_grid_id=own)
            )
        await socket.close()


async def test_a_policy_reload_applies_to_the_next_event(gw: Gateway, url: str, tmp_path: Path) -> None:
    socket = await _socket(url, await _token(gw, "committee_staff"))
    await _subscribe(socket, await newest_dispute_event(gw))
    in_force = gw.runtime.policies
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    role = folder / "roles" / "committee_staff.yaml"
    text = role.read_text()
    assert "own_area_only: [phone]" in text
    role.write_text(text.replace("own_area_only: [phone]", "deny: [phone]"))
    gw.runtime.install(load_policies(folder))
    try:
        data = await gw.query("{ disputes(first: 1) { nodes { id grid { id } } } }", role="committee_staff")
        node = data["disputes"]["nodes"][0]
        await dispute_event(gw, decode_pk(node["id"], "Dispute"), decode_pk(node["grid"]["id"], "Grid"))
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        # The document asks for a phone the new policy no longer grants: the subscription ends, nothing leaks.
        assert message["type"] == "error", message
        assert "phone" in json.dumps(message["payload"]), message
    finally:
        gw.runtime.install(in_force)
        await socket.close()


async def test_a_socket_runs_a_bounded_number_of_subscriptions(gw: Gateway, url: str) -> None:
    """Each subscription is read, checked and audited per event: one token cannot start thousands."""
    most = gw.runtime.settings.max_subscriptions
    socket = await _socket(url, await _token(gw, "community_police"))
    try:
        after = await newest_dispute_event(gw)
        for n in range(most + 1):
            payload = {"query": SUBSCRIPTION, "variables": {"after": after}}
            await socket.send(json.dumps({"id": f"s{n}", "type": "subscribe", "payload": payload}))
        refusal = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert refusal["id"] == f"s{most}" and refusal["type"] == "error", refusal
        assert refusal["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        # The socket stays open, and the subscriptions it holds keep running.
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), timeout=10))["type"] == "pong"
    finally:
        await socket.close()
