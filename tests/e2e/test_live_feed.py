"""The live change feed end to end: real uvicorn servers, real WebSocket and HTTP clients.

Mutations go over HTTP (httpx), subscriptions over ``graphql-transport-ws`` (``websockets``).
One server on SQLite carries a dispute's whole life to the subscribers entitled to see it,
masked per role, resumes a dropped subscriber, guards its socket and replays retried
requests. Two servers on one PostgreSQL database, woken through Redis, prove that an event
committed by one worker reaches a subscriber of the other at once, and still does when the
writer is killed right after its commit.

The two-worker tests need PostgreSQL (``GATEWAY_TEST_POSTGRES_URL``) and Redis on
127.0.0.1:6379; without them they are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.e2e.servers import (
    Server,
    gateway_env,
    issue_tokens,
    prepare_database,
    run_cli,
    uvicorn_server,
    uvicorn_servers,
)
from tests.harness import postgres_database, require

PROTOCOL = Subprotocol("graphql-transport-ws")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WAIT = 10.0
"""Upper bound on any single wait for a message that must come."""
PROMPT = 3.0
"""How soon an event written on one worker must reach another's subscriber (its poll is 30 s)."""

POLICE, COMMITTEE, GRID_WORKER, ANALYST = "police.demo", "committee.demo", "gridworker.demo", "analyst.city"
LIFE = ["reported", "accepted", "mediating", "agreed", "followed_up", "closed"]
RAW_PHONE = "13812345678"

SUBSCRIPTION = """
subscription Live($after: String) {
  disputeUpdated(afterEvent: $after) {
    eventId kind
    dispute { id status version grid { id } parties { name phone } }
  }
}"""
# Every subscriber replays from the first event on: a subscription that registers after the
# first mutation still sees it, and events of other disputes are filtered out by dispute id.
FROM_START = "dispute:0"

PAYLOAD = "dispute { id status version parties { name phone } } clientMutationId"
REPORT = f"mutation Report($input: ReportDisputeInput!) {{ reportDispute(input: $input) {{ {PAYLOAD} }} }}"
ACCEPT = f"mutation Accept($input: DisputeStepInput!) {{ acceptDispute(input: $input) {{ {PAYLOAD} }} }}"
MEDIATE = f"mutation Mediate($input: MediationInput!) {{ recordMediationSession(input: $input) {{ {PAYLOAD} }} }}"
AGREE = f"mutation Agree($input: AgreementInput!) {{ reachAgreement(input: $input) {{ {PAYLOAD} }} }}"
FOLLOW_UP = f"mutation FollowUp($input: DisputeStepInput!) {{ followUpDispute(input: $input) {{ {PAYLOAD} }} }}"
CLOSE = f"mutation Close($input: DisputeStepInput!) {{ closeDispute(input: $input) {{ {PAYLOAD} }} }}"
COUNT = "{ disputes { totalCount } }"


# --- clients -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One ``next`` message of a ``disputeUpdated`` subscription."""

    event_id: str
    kind: str
    dispute: dict[str, Any]
    extensions: dict[str, Any]

    @property
    def number(self) -> int:
        return int(self.event_id.partition(":")[2])

    @property
    def phones(self) -> list[str | None]:
        return [party["phone"] for party in self.dispute["parties"]]


class GraphQLSocket:
    """A ``graphql-transport-ws`` client over one acknowledged connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        return message

    async def subscribe(self, ident: str, after: str | None = FROM_START) -> None:
        await self.send(
            {"type": "subscribe", "id": ident, "payload": {"query": SUBSCRIPTION, "variables": {"after": after}}}
        )

    async def _next(self, ident: str, timeout: float) -> Delivered | None:
        try:
            message = await self.receive(timeout)
        except TimeoutError:
            return None
        assert message.get("type") == "next" and message.get("id") == ident, message
        payload = message["payload"]
        assert not payload.get("errors"), payload
        event = payload["data"]["disputeUpdated"]
        return Delivered(event["eventId"], event["kind"], event["dispute"], payload.get("extensions") or {})

    async def next_event(self, ident: str, timeout: float = WAIT) -> Delivered:
        event = await self._next(ident, timeout)
        if event is None:
            pytest.fail(f"subscription {ident!r}: no event within {timeout:.1f}s")
        return event

    async def events_until(
        self, ident: str, done: Callable[[list[Delivered]], bool], timeout: float = WAIT
    ) -> list[Delivered]:
        """Events in arrival order, up to and including the one after which ``done`` holds."""
        seen: list[Delivered] = []
        deadline = time.monotonic() + timeout
        while not done(seen):
            event = await self._next(ident, max(deadline - time.monotonic(), 0.0))
            if event is None:
                pytest.fail(
                    f"subscription {ident!r}: not done within {timeout}s; got {[(e.event_id, e.kind) for e in seen]}"
                )
            seen.append(event)
        return seen


@asynccontextmanager
async def graphql_socket(server: Server, token: str) -> AsyncIterator[GraphQLSocket]:
    """A socket on ``server`` authenticated with ``token`` (``connection_ack`` received)."""
    async with connect(server.ws_url, subprotocols=[PROTOCOL], open_timeout=WAIT, close_timeout=2) as connection:
        socket_ = GraphQLSocket(connection)
        await socket_.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert await socket_.receive() == {"type": "connection_ack"}
        yield socket_


def has(dispute_id: str, kind: str) -> Callable[[list[Delivered]], bool]:
    return lambda seen: any(e.dispute["id"] == dispute_id and e.kind == kind for e in seen)


def of(events: list[Delivered], dispute_id: str) -> list[Delivered]:
    return [e for e in events if e.dispute["id"] == dispute_id]


class Api:
    """GraphQL over HTTP to one server, as one of the demo principals."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def post(
        self, who: str, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.tokens[who]}", **(headers or {})}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=sent)
        assert response.status_code == 200, response.text
        return response

    async def data(self, who: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = (await self.post(who, query, variables)).json()
        assert not body.get("errors"), body
        return body["data"]

    async def mutate(self, who: str, query: str, given: dict[str, Any]) -> dict[str, Any]:
        """Run a dispute mutation; the dispute as the payload shows it."""
        data = await self.data(who, query, {"input": given})
        dispute: dict[str, Any] = next(iter(data.values()))["dispute"]
        return dispute


@asynccontextmanager
async def api(server: Server, tokens: dict[str, str]) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as client:
        yield Api(client, tokens)


# --- the dispute's life --------------------------------------------------------------------


@dataclass(frozen=True)
class Places:
    """Grids picked from what the demo principals see of themselves."""

    inside: str
    """In the committee's community and bound to the officer's police grid (not the grid worker's)."""
    outside: str
    """Bound to the officer's police grid, on the committee's street, outside its community."""
    mediator: str
    worker_grid: str | None
    """The grid worker's own grid, in the committee's community (when there is a grid worker's token)."""


GRIDS = "{ grids(first: 100) { nodes { id name community { name street { id } } policeGrid { name } } } }"
AREA = "{ me { area { kind name } } }"


async def find_places(client: Api) -> Places:
    kinds = {POLICE: "police_grid", COMMITTEE: "community", GRID_WORKER: "grid"}
    areas = {who: (await client.data(who, AREA))["me"]["area"] for who in kinds if who in client.tokens}
    assert {who: area["kind"] for who, area in areas.items()} == {who: kinds[who] for who in areas}
    grids = (await client.data(COMMITTEE, GRIDS))["grids"]["nodes"]

    def community(grid: dict[str, Any]) -> str:
        return str(grid["community"]["name"])

    def policed(grid: dict[str, Any]) -> bool:
        return bool(grid["policeGrid"] and grid["policeGrid"]["name"] == areas[POLICE]["name"])

    ours = [g for g in grids if community(g) == areas[COMMITTEE]["name"]]
    worker = next((g for g in ours if GRID_WORKER in areas and g["name"] == areas[GRID_WORKER]["name"]), None)
    inside = next(g for g in ours if policed(g) and g is not worker)
    street = inside["community"]["street"]["id"]
    outside = next(
        g
        for g in grids
        if policed(g) and community(g) != community(inside) and g["community"]["street"]["id"] == street
    )
    mediators = (await client.data(COMMITTEE, "{ mediators(first: 1) { nodes { id } } }"))["mediators"]["nodes"]
    return Places(inside["id"], outside["id"], mediators[0]["id"], None if worker is None else worker["id"])


def report_input(grid: str, title: str = "楼道堆物与门帘纠纷") -> dict[str, Any]:
    return {
        "title": title,
        "category": "NEIGHBOUR",
        "description": "楼道堆放杂物,门帘挡住邻居通行",
        "gridId": grid,
        "parties": [
            {"role": "COMPLAINANT", "name": "王桂兰", "phone": RAW_PHONE},
            {"role": "RESPONDENT", "name": "李德顺", "phone": "13912345670"},
        ],
    }


def step(dispute: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"disputeId": dispute["id"], "expectedVersion": dispute["version"], **more}


async def accept(client: Api, who: str, dispute: dict[str, Any]) -> dict[str, Any]:
    return await client.mutate(who, ACCEPT, step(dispute))


async def mediate(client: Api, who: str, dispute: dict[str, Any], places: Places) -> dict[str, Any]:
    session = {
        "heldAt": "2026-03-02T10:00:00+08:00",
        "mode": "FACE_TO_FACE",
        "location": "品湖苑社区调解室",
        "notes": "双方当面协商,同意清理楼道",
        "mediatorIds": [places.mediator],
    }
    return await client.mutate(who, MEDIATE, step(dispute, **session))


async def agree(client: Api, who: str, dispute: dict[str, Any]) -> dict[str, Any]:
    terms = {"terms": "三日内清理楼道杂物,门帘改为向内开", "signedOn": "2026-03-02"}
    return await client.mutate(who, AGREE, step(dispute, **terms))


async def walk_whole_life(client: Api, who: str, places: Places) -> dict[str, Any]:
    """Report a dispute in ``places.inside`` and take it through every step to closed."""
    dispute = await client.mutate(who, REPORT, report_input(places.inside))
    dispute = await accept(client, who, dispute)
    dispute = await mediate(client, who, dispute, places)
    dispute = await agree(client, who, dispute)
    dispute = await client.mutate(who, FOLLOW_UP, step(dispute, note="回访:楼道已清理,双方满意"))
    dispute = await client.mutate(who, CLOSE, step(dispute))
    assert dispute["status"] == "CLOSED", dispute
    return dispute


# --- one worker on SQLite ------------------------------------------------------------------


@dataclass
class Deployment:
    servers: list[Server]
    tokens: dict[str, str]
    env: dict[str, str]
    places: Places | None = None


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("live-feed-sqlite")
    env = gateway_env(f"sqlite+aiosqlite:///{tmp}/gw.db")
    prepare_database(env)
    tokens: dict[str, str] = {}

    def issue() -> None:
        tokens.update(issue_tokens(env, POLICE, COMMITTEE, GRID_WORKER, ANALYST))

    with uvicorn_server(env, tmp / "uvicorn.log", meanwhile=issue) as server:
        yield Deployment([server], tokens, env)


async def places_of(deployment: Deployment, client: Api) -> Places:
    if deployment.places is None:
        deployment.places = await find_places(client)
    return deployment.places


async def test_a_dispute_walks_its_whole_life_to_the_subscribers_entitled_to_it(single: Deployment) -> None:
    (server,) = single.servers
    async with (
        api(server, single.tokens) as client,
        graphql_socket(server, single.tokens[POLICE]) as police,
        graphql_socket(server, single.tokens[COMMITTEE]) as committee,
        graphql_socket(server, single.tokens[GRID_WORKER]) as worker,
    ):
        places = await places_of(single, client)
        for subscriber in (police, committee, worker):
            await subscriber.subscribe("live")

        closed = await walk_whole_life(client, COMMITTEE, places)
        outside = await client.mutate(POLICE, REPORT, report_input(places.outside, "楼上漏水"))
        # Written last: once a subscriber has it, every earlier event has been decided for it.
        assert places.worker_grid is not None
        last = await client.mutate(COMMITTEE, REPORT, report_input(places.worker_grid, "夜间噪音"))

        seen = {
            name: await subscriber.events_until("live", has(last["id"], "reported"))
            for name, subscriber in (("police", police), ("committee", committee), ("worker", worker))
        }

    for name in ("police", "committee"):
        life = of(seen[name], closed["id"])
        assert [e.kind for e in life] == LIFE, name
        # Each event is read as the subscriber when it is delivered: the dispute as it stands then,
        # never older than the event, and never going back.
        stages = [LIFE.index(e.dispute["status"].lower()) for e in life]
        assert stages == sorted(stages) and all(stage >= n for n, stage in enumerate(stages)), (name, stages)
        assert [e.number for e in life] == sorted({e.number for e in life}), f"{name}: out of order or repeated"
        # In the committee's own community its staff see the parties' phones in full.
        assert all(e.phones == [RAW_PHONE, "13912345670"] and not e.extensions for e in life), (name, life)

    (police_outside,) = of(seen["police"], outside["id"])
    assert police_outside.phones == [RAW_PHONE, "13912345670"]
    # Outside its community (but on its street) the committee gets the dispute without phones,
    # and is told which paths were redacted, exactly as a query would tell it.
    (committee_outside,) = of(seen["committee"], outside["id"])
    assert committee_outside.kind == "reported"
    assert committee_outside.phones == [None, None]
    assert sorted(committee_outside.extensions.get("redacted", [])) == [
        "disputeUpdated.dispute.parties.0.phone",
        "disputeUpdated.dispute.parties.1.phone",
    ]

    # The grid worker of another grid got nothing of either dispute before the one in its own grid.
    assert not of(seen["worker"], closed["id"]) and not of(seen["worker"], outside["id"])
    (own,) = of(seen["worker"], last["id"])
    assert own.dispute["grid"]["id"] == places.worker_grid
    assert all(phone and "****" in phone and phone != RAW_PHONE for phone in own.phones), own.phones


async def test_a_resumed_subscription_receives_exactly_what_it_missed(single: Deployment) -> None:
    (server,) = single.servers
    async with api(server, single.tokens) as client:
        places = await places_of(single, client)
        async with graphql_socket(server, single.tokens[POLICE]) as police:
            await police.subscribe("resume")
            dispute = await client.mutate(COMMITTEE, REPORT, report_input(places.inside, "装修噪音"))
            seen = await police.events_until("resume", has(dispute["id"], "reported"))
        last_seen = seen[-1]
        assert (last_seen.dispute["id"], last_seen.kind) == (dispute["id"], "reported")

        # Disconnected: two changes happen meanwhile.
        dispute = await accept(client, COMMITTEE, dispute)
        dispute = await mediate(client, COMMITTEE, dispute, places)

        async with graphql_socket(server, single.tokens[POLICE]) as police:
            await police.subscribe("resume", after=last_seen.event_id)
            missed = [await police.next_event("resume"), await police.next_event("resume")]
            # A live change after the replay proves nothing else was replayed in between.
            await agree(client, COMMITTEE, dispute)
            live = await police.next_event("resume")

    got = [(e.dispute["id"], e.kind) for e in [*missed, live]]
    assert got == [(dispute["id"], "accepted"), (dispute["id"], "mediating"), (dispute["id"], "agreed")]
    assert last_seen.number < missed[0].number < missed[1].number < live.number


async def _close_code(server: Server, init: dict[str, Any]) -> int | None:
    async with connect(server.ws_url, subprotocols=[PROTOCOL], open_timeout=WAIT, close_timeout=2) as connection:
        await connection.send(json.dumps(init))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(connection.recv(), WAIT)
        return connection.close_code


async def test_the_socket_refuses_bad_tokens_and_carries_only_subscriptions(single: Deployment) -> None:
    (server,) = single.servers
    # Everything a genuine police token claims, signed with a key that is not the server's.
    claims = jwt.decode(single.tokens[POLICE], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-server-key-0123456789abcdef", algorithm="HS256")
    for payload in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {forged}"}):
        assert await _close_code(server, {"type": "connection_init", "payload": payload}) == 4403, payload

    async with graphql_socket(server, single.tokens[POLICE]) as police:
        for ident, query in (
            ("q", "{ me { id } }"),
            ("m", f'mutation {{ closeDispute(input: {{disputeId: "x"}}) {{ {PAYLOAD} }} }}'),
        ):
            await police.send({"type": "subscribe", "id": ident, "payload": {"query": query}})
            message = await police.receive()
            assert message["type"] == "error" and message["id"] == ident, message
            assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST", message
        bad_resume = {"query": SUBSCRIPTION, "variables": {"after": "resident:5"}}
        await police.send({"type": "subscribe", "id": "r", "payload": bad_resume})
        message = await police.receive()
        assert message["type"] == "error" and message["id"] == "r", message
        assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT", message
        # The socket stays usable after a refused operation.
        await police.send({"type": "ping"})
        assert await police.receive() == {"type": "pong"}


async def test_a_retried_report_with_one_idempotency_key_writes_once(single: Deployment) -> None:
    (server,) = single.servers
    async with api(server, single.tokens) as client:
        places = await places_of(single, client)
        before = (await client.data(ANALYST, COUNT))["disputes"]["totalCount"]
        request = {"input": report_input(places.inside, "重复提交的纠纷")}
        key = {"Idempotency-Key": "e2e-report-0001"}

        first = await client.post(COMMITTEE, REPORT, request, key)
        again = await client.post(COMMITTEE, REPORT, request, key)
        assert "errors" not in first.json(), first.text
        assert "idempotent-replayed" not in first.headers
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
        assert (await client.data(ANALYST, COUNT))["disputes"]["totalCount"] == before + 1

        changed = {"input": report_input(places.inside, "换了内容的纠纷")}
        conflict = (await client.post(COMMITTEE, REPORT, changed, key)).json()
        assert [e["extensions"]["code"] for e in conflict["errors"]] == ["CONFLICT"], conflict
        assert (await client.data(ANALYST, COUNT))["disputes"]["totalCount"] == before + 1

        # The same through the input's clientMutationId, with no header.
        tagged = {"input": {**report_input(places.inside, "手机重发的纠纷"), "clientMutationId": "phone-42"}}
        once = (await client.post(COMMITTEE, REPORT, tagged)).json()
        twice = await client.post(COMMITTEE, REPORT, tagged)
        assert twice.headers.get("idempotent-replayed") == "true" and twice.json() == once
        assert once["data"]["reportDispute"]["clientMutationId"] == "phone-42"
        assert (await client.data(ANALYST, COUNT))["disputes"]["totalCount"] == before + 2


# --- two workers on PostgreSQL, woken through Redis ----------------------------------------


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Workers A (writes) and B (subscriptions) on one PostgreSQL database, polling only every 30 s."""
    if not _redis_answers():
        require(f"Redis at {REDIS_HOST}:{REDIS_PORT} does not answer PING: two-worker tests skipped")
    tmp = tmp_path_factory.mktemp("live-feed-postgres")
    with postgres_database() as url:
        env = gateway_env(url, REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/0", FEED_POLL_SECONDS="30")
        prepare_database(env)
        tokens: dict[str, str] = {}

        def issue() -> None:
            tokens.update(issue_tokens(env, POLICE, COMMITTEE))

        with uvicorn_servers(env, [tmp / "worker-a.log", tmp / "worker-b.log"], meanwhile=issue) as servers:
            yield Deployment(servers, tokens, env)


async def _arrives_promptly(
    subscriber: GraphQLSocket, ident: str, dispute_id: str, kind: str, since: float
) -> Delivered:
    event = await subscriber.next_event(ident, WAIT)
    waited = time.monotonic() - since
    assert (event.dispute["id"], event.kind) == (dispute_id, kind), event
    assert waited < PROMPT, f"{kind} took {waited:.1f}s to reach the other worker"
    return event


async def test_an_event_written_on_one_worker_reaches_a_subscriber_on_another_at_once(pair: Deployment) -> None:
    writer, reader = pair.servers
    async with api(writer, pair.tokens) as client, graphql_socket(reader, pair.tokens[POLICE]) as police:
        places = await places_of(pair, client)
        await police.subscribe("b")
        dispute = await client.mutate(COMMITTEE, REPORT, report_input(places.inside, "跨进程推送"))
        # Replayed or live, the first event also proves the subscription is in place on B.
        await police.events_until("b", has(dispute["id"], "reported"))

        since = time.monotonic()
        dispute = await accept(client, COMMITTEE, dispute)
        await _arrives_promptly(police, "b", dispute["id"], "accepted", since)
        since = time.monotonic()
        dispute = await mediate(client, COMMITTEE, dispute, places)
        await _arrives_promptly(police, "b", dispute["id"], "mediating", since)


async def test_an_event_committed_just_before_its_writer_is_killed_is_still_delivered(
    pair: Deployment, tmp_path: Path
) -> None:
    _, reader = pair.servers
    async with api(reader, pair.tokens) as on_reader, graphql_socket(reader, pair.tokens[POLICE]) as police:
        places = await places_of(pair, on_reader)
        await police.subscribe("b")
        dispute = await on_reader.mutate(COMMITTEE, REPORT, report_input(places.inside, "写入后进程被杀"))
        before = (await police.events_until("b", has(dispute["id"], "reported")))[-1]

        with uvicorn_server(pair.env, tmp_path / "doomed.log") as doomed:
            async with api(doomed, pair.tokens) as on_doomed:
                since = time.monotonic()
                await accept(on_doomed, COMMITTEE, dispute)
            doomed.kill()
        await _arrives_promptly(police, "b", dispute["id"], "accepted", since)

        # The event lives in the outbox, committed with the change: a late subscriber replays it.
        async with graphql_socket(reader, pair.tokens[POLICE]) as late:
            await late.subscribe("late", after=before.event_id)
            replayed = await late.next_event("late")
        assert (replayed.dispute["id"], replayed.kind, replayed.dispute["status"]) == (
            dispute["id"],
            "accepted",
            "ACCEPTED",
        )


# --- live sessions: what HTTP would refuse now, the socket refuses now, on every worker -------


async def _closed_promptly(subscriber: GraphQLSocket, since: float) -> None:
    """The server closes the socket with 4403 within a second of ``since``, sending nothing first."""
    with pytest.raises(ConnectionClosed):
        message = await subscriber.receive(WAIT)
        pytest.fail(f"a message reached a socket that should have been closed: {message!r}")
    waited = time.monotonic() - since
    assert subscriber.connection.close_code == 4403, subscriber.connection.close_code
    assert waited < 1.0 + SESSION_SLACK, f"the socket stayed open {waited:.2f}s"


# The revocation and the deactivation are made by a separate process (the CLI, a database client);
# the promise is a second, measured from when they are committed.
SESSION_SLACK = 0.5


async def test_a_token_revoked_elsewhere_closes_its_socket_on_another_worker(pair: Deployment) -> None:
    _, reader = pair.servers
    token = issue_tokens(pair.env, POLICE)[POLICE]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    async with graphql_socket(reader, token) as police:
        await police.subscribe("r", after=None)
        await asyncio.to_thread(run_cli, pair.env, "token", "revoke", jti)
        await _closed_promptly(police, time.monotonic())


async def test_a_principal_disabled_while_its_socket_is_open_is_cut_off_on_every_worker(pair: Deployment) -> None:
    import asyncpg

    url = pair.env["GATEWAY_DB_URL"].replace("postgresql+asyncpg://", "postgresql://")
    token = issue_tokens(pair.env, COMMITTEE)[COMMITTEE]
    writer, reader = pair.servers
    async with graphql_socket(reader, token) as on_reader, graphql_socket(writer, token) as on_writer:
        await on_reader.subscribe("r", after=None)
        await on_writer.subscribe("w", after=None)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("UPDATE staff SET active = false WHERE principal_id = $1", COMMITTEE)
            since = time.monotonic()
            await _closed_promptly(on_reader, since)
            await _closed_promptly(on_writer, since)
        finally:
            await connection.execute("UPDATE staff SET active = true WHERE principal_id = $1", COMMITTEE)
            await connection.close()
