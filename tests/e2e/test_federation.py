"""The federated gateway against the single endpoint, over real processes on loopback.

Six subgraphs (``gateway serve --subgraph NAME``, one uvicorn each) behind Hive Gateway, one router per
policy with the supergraph ``gateway schema supergraph`` composed from that policy's subgraphs, and the
single endpoint beside them, all on one seeded database. For every demo principal, every read query
of the test suite that crosses domains (and the generated one per root list) goes both ways; the
answers must agree in data and errors, and the audit trail must record the same reads.

Audit records compare normalised: the single endpoint writes one record per operation, the subgraphs
one per subgraph request (``_entities`` included), so what is compared is, per operation, the set of
(role, field read and whether masked or in clear), the set of (type, row id) and the set of names of
fields withheld on rows outside the caller's area — not the records' number, hashes or paths.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    validate,
    visit,
)
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from gateway.kernel import load_registry
from gateway.policy import Policy, load_policies
from gateway.schema import build_schema, visible_fields
from gateway.schema.subgraph import owners
from tests.compiled_corpus import generated_queries, suite_queries
from tests.e2e.servers import (
    ROOT,
    Server,
    free_port,
    gateway_env,
    prepare_database,
    run_cli,
    start_uvicorn,
    wait_healthy,
)

TOOLS = ROOT / "gateway" / "schema" / "federation"
HIVE = TOOLS / "node_modules" / ".bin" / "hive-gateway"
REGISTRY = load_registry()
OWNERS = owners(REGISTRY.domains)
ME = "{ me { id role scopes } }"
REFUSALS = {"QUERY_TOO_COMPLEX", "BAD_USER_INPUT"}


def _router_installed() -> None:
    if HIVE.exists() and shutil.which("node"):
        return
    reason = f"Hive Gateway is not installed: run `make federation` (npm ci in {TOOLS.relative_to(ROOT)})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Router:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_router(supergraph: Path, log: Path, introspection: bool) -> Router:
    port = free_port()
    env = {**os.environ, "GATEWAY_SUPERGRAPH": str(supergraph)}
    if not introspection:
        env["GATEWAY_ROUTER_INTROSPECTION"] = "off"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(HIVE), "supergraph", "-c", "gateway.config.mjs", "--host", "127.0.0.1", "--port", str(port)],
            cwd=TOOLS,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Router(process, port, log)


def wait_router(router: Router, timeout: float = 120.0) -> None:
    """Wait until the router answers a query (it loads its supergraph on the first one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if router.process.poll() is not None:
            pytest.fail(f"hive-gateway exited {router.process.returncode}:\n{router.log.read_text()[-3000:]}")
        try:
            if httpx.post(router.url, json={"query": "{ __typename }"}, timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"hive-gateway did not become ready:\n{router.log.read_text()[-3000:]}")


@dataclass
class Caller:
    principal: str
    token: str
    policy: Policy
    schema: GraphQLSchema
    partner: bool
    router: Router | None = None


@dataclass
class Federation:
    single: Server
    subgraphs: dict[str, Server]
    callers: dict[str, Caller]
    database: Path


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    _router_installed()
    tmp = tmp_path_factory.mktemp("federation")
    database = tmp / "gateway.db"
    # Introspection for staff only, as in production: partners are shown no schema either way.
    env = gateway_env(f"sqlite+aiosqlite:///{database}", INTROSPECTION="staff")
    prepare_database(env)
    servers: list[Server] = []
    routers: list[Router] = []
    try:
        single = start_uvicorn(env, tmp / "single.log")
        servers.append(single)
        subgraphs = {}
        for domain in REGISTRY.domains:
            subgraphs[domain.name] = start_uvicorn({**env, "GATEWAY_SUBGRAPH": domain.name}, tmp / f"{domain.name}.log")
            servers.append(subgraphs[domain.name])
        tokens = demo_tokens(env)
        for server in servers:
            wait_healthy(server)
        policies = load_policies(ROOT / "policies")
        callers: dict[str, Caller] = {}
        scope_sets: list[str] = []
        for principal, token in tokens.items():
            me = _post(single.base_url + "/graphql", token, ME)["data"]["me"]
            policy = policies.for_scopes(me["scopes"]) if me["scopes"] else policies.for_role(me["role"])
            assert policy is not None, principal
            if me["scopes"]:
                scope_sets.append(",".join(me["scopes"]))
            schema = build_schema(REGISTRY.domains, policy)._schema
            callers[principal] = Caller(principal, token, policy, schema, partner=bool(me["scopes"]))
        urls = [f"--url={name}={server.base_url}/graphql" for name, server in subgraphs.items()]
        scopes = [f"--scopes={s}" for s in scope_sets]
        run_cli(env, "schema", "supergraph", "--roles", *scopes, *urls, f"--output={tmp / 'supergraphs'}")
        for caller in callers.values():
            name = caller.policy.name.replace(":", "-") + ".graphql"
            log = tmp / f"router-{caller.principal}.log"
            caller.router = start_router(tmp / "supergraphs" / name, log, introspection=not caller.partner)
            routers.append(caller.router)
        for router in routers:
            wait_router(router)
        yield Federation(single, subgraphs, callers, database)
    finally:
        for router in routers:
            router.stop()
        for server in servers:
            server.stop()


def demo_tokens(env: dict[str, str]) -> dict[str, str]:
    """A token per demo principal from one ``gateway token demo`` (in registry order, after a ``#`` line each)."""
    lines = [line.strip() for line in run_cli(env, "token", "demo").splitlines()]
    found = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("# ") and i + 1 < len(lines)]
    principals = list(REGISTRY.demo_principals.values())
    assert len(found) == len(principals), lines
    return dict(zip(principals, found, strict=False))


def _post(url: str, token: str | None, query: str) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.post(url, json={"query": query}, headers=headers, timeout=60).json()


def _domains(schema: GraphQLSchema, document: Any) -> set[str]:
    """The domains whose types a document reads."""
    found: set[str] = set()
    info = TypeInfo(schema)

    class Reads(Visitor):
        def enter_field(self, *_: Any) -> None:
            named = info.get_type()
            if named is not None:
                owner = OWNERS.get(get_named_type(named).name)
                if owner is not None:
                    found.add(owner)

    visit(document, TypeInfoVisitor(info, Reads()))
    return found


def corpus(schema: GraphQLSchema) -> list[str]:
    """The read queries of the suite, and the generated ones, that this schema takes and that cross domains."""
    out = []
    for text in [*suite_queries(), *generated_queries(schema)]:
        document = parse(text)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(o.variable_definitions for o in operations) or validate(schema, document):
            continue
        if len(_domains(schema, document)) > 1:
            out.append(text)
    return out


def audit_since(database: Path, principal: str, seq: int) -> tuple[int, dict[str, Any]]:
    """The last seq, and the records of ``principal`` after ``seq`` normalised: the fields read (of a
    type whose rows were returned) and how, the rows, and the names of fields withheld on some rows."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT role, fields, row_ids, redacted, access FROM gateway_audit"
            " WHERE seq > ? AND principal_id = ? ORDER BY seq",
            (seq, principal),
        ).fetchall()
        last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM gateway_audit").fetchone()[0]
    reads: set[tuple[str, str, str]] = set()
    touched: set[tuple[str, int]] = set()
    withheld: set[str] = set()
    for role, fields, row_ids, redacted, access in rows:
        how = json.loads(access or "{}")
        returned = json.loads(row_ids)
        reads |= {(role, f, how.get(f, "clear")) for f in json.loads(fields) if f.partition(".")[0] in returned}
        touched |= {(kind, i) for kind, ids in returned.items() for i in ids}
        withheld |= {p.rsplit(".", 1)[-1] for p in json.loads(redacted)}
    return last, {"reads": reads, "rows": touched, "withheld": withheld}


def _errors(answer: Any) -> list[tuple[str, Any, Any]]:
    return sorted(
        (e.get("message"), e.get("path"), (e.get("extensions") or {}).get("code")) for e in answer.get("errors") or []
    )


def _refused(answer: Any) -> bool:
    """Refused as a whole before running (over a limit): no data at all."""
    return answer.get("data") is None and bool(answer.get("errors"))


def _check_caller(federation: Federation, caller: Caller) -> tuple[int, list[str]]:
    """Run the corpus through the single endpoint, then through the router; what differs."""
    assert caller.router is not None
    problems = []
    queries = corpus(caller.schema)
    seq, _ = audit_since(federation.database, caller.principal, 0)
    single: dict[str, tuple[Any, dict[str, Any]]] = {}
    for query in queries:
        answer = _post(federation.single.base_url + "/graphql", caller.token, query)
        seq, audit = audit_since(federation.database, caller.principal, seq)
        single[query] = (answer, audit)
    # Answered operations first: a router that refuses one part may still be running another when it
    # answers, whose audit record would land in the next operation's window.
    answered = [q for q in queries if not _refused(single[q][0])]
    for query in answered:
        routed = _post(caller.router.url, caller.token, query)
        seq, routed_audit = audit_since(federation.database, caller.principal, seq)
        expected, expected_audit = single[query]
        if routed.get("data") != expected.get("data"):
            problems.append(f"data differs for {query!r}: {routed} != {expected}")
        elif _errors(routed) != _errors(expected):
            problems.append(f"errors differ for {query!r}: {_errors(routed)} != {_errors(expected)}")
        elif routed_audit != expected_audit:
            problems.append(f"audit differs for {query!r}: {routed_audit} != {expected_audit}")
    for query in queries:
        if query in answered:
            continue
        routed = _post(caller.router.url, caller.token, query)
        # The single endpoint weighs the whole operation; the router its depth and size, each subgraph
        # the cost and page sizes of its part: refused either way, if not always by the same check.
        codes = {c for _, _, c in _errors(routed)}
        if not codes & REFUSALS:
            problems.append(f"not refused through the router {query!r}: {routed} (single: {single[query][0]})")
    return len(answered), problems


def test_every_principal_gets_the_same_answers_through_the_router(federation: Federation) -> None:
    callers = list(federation.callers.values())
    assert {c.principal for c in callers} == set(REGISTRY.demo_principals.values())
    with ThreadPoolExecutor(len(callers)) as pool:
        results = dict(
            zip((c.principal for c in callers), pool.map(lambda c: _check_caller(federation, c), callers), strict=False)
        )
    problems = [f"{principal}: {p}" for principal, (_, found) in results.items() for p in found]
    assert not problems, "\n".join(problems[:20])
    # Every principal whose schema reaches across domains had such operations answered both ways.
    reaching = [p for p, c in federation.callers.items() if corpus(c.schema)]
    assert len(reaching) >= 5 and all(results[p][0] > 0 for p in reaching), results


def _shape(answer: Any) -> dict[str, set[str]]:
    """Type name → field names, from an introspection answer."""
    types = answer["data"]["__schema"]["types"]
    return {t["name"]: {f["name"] for f in t["fields"] or ()} for t in types if not t["name"].startswith("__")}


SHAPE = "{ __schema { types { name fields { name } } } }"
FULL = visible_fields(build_schema(REGISTRY.domains))


@pytest.mark.parametrize("principal", sorted(REGISTRY.demo_principals.values()))
def test_the_router_shows_each_role_its_own_schema(federation: Federation, principal: str) -> None:
    caller = federation.callers[principal]
    assert caller.router is not None
    single = _post(federation.single.base_url + "/graphql", caller.token, SHAPE)
    routed = _post(caller.router.url, caller.token, SHAPE)
    if caller.partner:
        # Partner tokens are shown no schema, by the router as by the gateway.
        assert single.get("errors") and routed.get("errors") and not (routed.get("data") or {}).get("__schema")
        return
    # The federation's own fields and types stay between router and subgraphs.
    router_shape = {name: fields for name, fields in _shape(routed).items() if not name.startswith("_")}
    single_shape = _shape(single)
    assert router_shape.keys() == single_shape.keys()
    assert {n: f for n, f in router_shape.items()} == single_shape
    # What the policy denies this role (derived from the full schema) is absent from the router's answer.
    denied = {f"{t}.{f}" for t, fields in FULL.items() for f in fields - single_shape.get(t, set())}
    offered = {f"{t}.{f}" for t, fields in router_shape.items() for f in fields}
    assert denied and not denied & offered
    field = sorted(denied)[0]
    if field.startswith("Query."):
        refused = _post(caller.router.url, caller.token, f"{{ {field.partition('.')[2]} {{ __typename }} }}")
        assert refused.get("errors") and not refused.get("data")


@pytest.mark.parametrize("domain", [d.name for d in REGISTRY.domains])
def test_a_subgraph_refuses_a_request_without_a_valid_token(federation: Federation, domain: str) -> None:
    url = federation.subgraphs[domain].base_url + "/graphql"
    representations = "{ _service { sdl } }"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        answer = httpx.post(url, json={"query": representations}, headers=headers, timeout=30)
        assert answer.status_code == 401
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in answer.json()
    # With a valid token it answers, the SDL of the caller's own subgraph.
    caller = federation.callers[REGISTRY.demo_principals["city_analyst"]]
    sdl = _post(url, caller.token, representations)["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.3"' in sdl


def test_an_entity_the_caller_may_not_see_resolves_to_null_at_its_subgraph(federation: Federation) -> None:
    """``_entities`` answers as ``node(id:)`` does: a row outside the caller's area is null, a visible
    one comes with the caller's masks."""
    analyst = federation.callers[REGISTRY.demo_principals["city_analyst"]]
    committee = federation.callers[REGISTRY.demo_principals["committee_staff"]]
    listing = "{ residents(first: 100) { nodes { id } } }"
    single = federation.single.base_url + "/graphql"
    everyone = {n["id"] for n in _post(single, analyst.token, listing)["data"]["residents"]["nodes"]}
    visible = {n["id"] for n in _post(single, committee.token, listing)["data"]["residents"]["nodes"]}
    hidden, shown = sorted(everyone - visible)[0], sorted(visible)[0]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Resident { id name idNumber } } }"
    representations = [{"__typename": "Resident", "id": hidden}, {"__typename": "Resident", "id": shown}]
    answer = httpx.post(
        federation.subgraphs["population"].base_url + "/graphql",
        json={"query": query, "variables": {"r": representations}},
        headers={"Authorization": f"Bearer {committee.token}"},
        timeout=30,
    ).json()
    node = f'{{ node(id: "{shown}") {{ ... on Resident {{ id name idNumber }} }} }}'
    expected = _post(single, committee.token, node)["data"]["node"]
    assert answer["data"]["_entities"] == [None, expected]
    assert _post(single, committee.token, f'{{ node(id: "{hidden}") {{ id }} }}')["data"]["node"] is None


LIVE = "subscription { disputeUpdated { kind dispute { title status grid { name community { name } } parties { name phone } } } }"
REPORT = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"
OWN_GRID = "{ me { area { name } } policeGrids(first: 100) { nodes { name grids { id } } } }"


async def _first_event(url: str, token: str, subscribed: asyncio.Event) -> Any:
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=30) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] == "connection_ack"
        await socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": LIVE}}))
        subscribed.set()
        return json.loads(await asyncio.wait_for(socket.recv(), 60))


def test_a_subscription_through_the_router_gets_the_events_the_gateway_sends(federation: Federation) -> None:
    """The router subscribes at the dispute subgraph over graphql-transport-ws with the caller's token, and
    fetches each event's grid from the grid subgraph: the event equals the single endpoint's. Runs last: it
    writes a dispute."""
    police = federation.callers[REGISTRY.demo_principals["community_police"]]
    assert police.router is not None
    single = federation.single.base_url + "/graphql"
    own = _post(single, police.token, OWN_GRID)["data"]
    grid = next(n for n in own["policeGrids"]["nodes"] if n["name"] == own["me"]["area"]["name"])["grids"][0]["id"]
    parties = [
        {"role": "COMPLAINANT", "name": "王桂兰", "phone": "13812345678"},
        {"role": "RESPONDENT", "name": "李德顺", "phone": "13912345670"},
    ]
    report = {"title": "楼上漏水", "category": "NEIGHBOUR", "description": "漏水", "gridId": grid, "parties": parties}

    async def run() -> tuple[Any, Any]:
        ready = [asyncio.Event(), asyncio.Event()]
        direct = asyncio.create_task(_first_event(single.replace("http", "ws", 1), police.token, ready[0]))
        routed = asyncio.create_task(_first_event(police.router.url.replace("http", "ws", 1), police.token, ready[1]))  # type: ignore[union-attr]
        await asyncio.gather(*(r.wait() for r in ready))
        # A subscription is live once its subscriber has registered with the feed; the first report may
        # come before that, so report until both have an event.
        while not (direct.done() and routed.done()):
            answer = await asyncio.to_thread(
                httpx.post,
                single,
                json={"query": REPORT, "variables": {"input": report}},
                headers={"Authorization": f"Bearer {police.token}"},
                timeout=30,
            )
            assert answer.json().get("data"), answer.json()
            await asyncio.wait({direct, routed}, timeout=1)
        return direct.result(), routed.result()

    direct, routed = asyncio.run(run())
    assert direct["payload"]["data"]["disputeUpdated"]["dispute"]["grid"] is not None
    assert routed["payload"] == direct["payload"]
