"""Limits on every document: aliases, root fields, directives, tokens, depth, and a cost measured
before execution — one QUERY_TOO_COMPLEX error naming the limit, per role, overridable per policy;
an operation past GATEWAY_OPERATION_TIMEOUT is stopped (503, TIMEOUT) with nothing written."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, validate
from sqlalchemy import event

from gateway.data import statement_log
from gateway.kernel import Settings
from gateway.pipeline.admission import Admission
from gateway.pipeline.cost import operation_cost
from gateway.pipeline.limits import Limits
from gateway.policy.model import PolicyError, read_policy
from tests.harness import Gateway, running_gateway

DEFAULTS = Settings()
HEAVY = "a{n}: grids(first: 100) {{ nodes {{ residents(first: 100) {{ nodes {{ id name }} }} }} }}"


def aliased(count: int, template: str = HEAVY) -> str:
    return "{ " + " ".join(template.format(n=n) for n in range(count)) + " }"


@pytest.fixture(scope="module")
async def armoured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """The demo gateway with the limits as shipped (the shared suite raises the cost for its big pages)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('armoured') / 'gateway.db'}"
    async with running_gateway("sqlite", url, max_cost=DEFAULTS.max_cost) as gateway:
        yield gateway


@contextmanager
def statements() -> Iterator[list[str]]:
    log: list[str] = []
    token = statement_log.set(log)
    try:
        yield log
    finally:
        statement_log.reset(token)


async def one_error(
    gw: Gateway, query: str, variables: dict[str, Any] | None = None, role: str = "city_analyst"
) -> Any:
    response = await gw.post(query, variables, role)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None if "data" in body else True
    (error,) = body["errors"]
    return error


def test_the_shipped_limits_are_graphql_armors() -> None:
    assert (DEFAULTS.max_aliases, DEFAULTS.max_directives, DEFAULTS.max_tokens, DEFAULTS.max_cost) == (
        15,
        50,
        1000,
        5000,
    )


async def test_fifty_heavy_aliases_are_one_refusal_and_nothing_runs(armoured: Gateway) -> None:
    # The red team's document: 50 × grids(first: 100) × residents(first: 100).
    await one_error(armoured, "{ nothing }")  # the token is read once, then held live
    with statements() as baseline:
        await one_error(armoured, "{ nothing }")  # refused by validation: authentication's statements only
    with statements() as refused:
        error = await one_error(armoured, aliased(50))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == 1000 and "tokens" in error["message"]
    # Nothing but authentication's look-ups (which of them run depends on what its caches still hold).
    looked_up = ("FROM gateway_token", "FROM staff", "FROM agency", "FROM gateway_revocation")
    assert all(any(table in s for table in looked_up) for s in baseline), baseline
    assert all(any(table in s for table in looked_up) for s in refused), refused


async def test_ten_heavy_aliases_within_the_tokens_are_refused_by_cost(armoured: Gateway) -> None:
    with statements() as log:
        error = await one_error(armoured, aliased(10))
    assert error == {
        "message": "Query cost 302010 exceeds the limit of 5000",
        "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": 5000, "cost": 302010},
    }
    assert not [s for s in log if "FROM resident" in s]


async def test_more_aliases_than_the_limit(armoured: Gateway) -> None:
    error = await one_error(armoured, aliased(16, "t{n}: __typename"))
    assert error["message"] == "Query has 16 aliases; the limit is 15"
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 15}
    assert len(await armoured.query(aliased(15, "t{n}: __typename"))) == 15


async def test_aliases_count_wherever_a_fragment_is_spread(armoured: Gateway) -> None:
    fragment = "fragment F on Query { " + " ".join(f"t{n}: __typename" for n in range(4)) + " }"
    spread = "{ me { id } ...F a: me { ...M } b: me { ...M } c: me { ...M } d: me { ...M } } "
    query = spread + fragment + " fragment M on Me { ...G } fragment G on Me { x: id y: id }"
    error = await one_error(armoured, query)
    # 4 (F) + 4 (a–d) + 4 × 2 (x, y through M and G) = 16
    assert error["message"] == "Query has 16 aliases; the limit is 15"


async def test_more_root_fields_than_the_limit(armoured: Gateway) -> None:
    # graphql-cop's "field duplication": the same root field, over and over.
    error = await one_error(armoured, "{ " + "__typename " * 21 + "}")
    assert error["message"] == "Query has 21 root fields; the limit is 20"


async def test_more_directives_than_the_limit(armoured: Gateway) -> None:
    error = await one_error(armoured, "{ me { id " + "@include(if: true) " * 51 + "} }")
    assert error["message"] == "Query has 51 directives; the limit is 50"


async def test_a_document_over_several_limits_gets_one_error(armoured: Gateway) -> None:
    deep = "{ grids { nodes { residents { nodes { household { members { nodes { household { members { nodes { household { members { nodes { id } } } } } } } } } } } } } }"
    error = await one_error(armoured, deep[:-1] + " " + " ".join(f"t{n}: __typename" for n in range(16)) + " }")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_repeated_unknown_directives_are_one_error(armoured: Gateway) -> None:
    # graphql-cop's "directive overloading" counts ten errors for ten @aa.
    error = await one_error(armoured, "query cop { __typename " + "@aa" * 10 + " }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert len(error["locations"]) == 10


def cost_of(gw: Gateway, query: str, variables: dict[str, Any] | None = None, limits: Limits | None = None) -> int:
    executor = gw.runtime.full_executor
    document = parse(query)
    assert not validate(executor.schema, document)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operation_cost(executor.schema, fragments, operation, variables, limits or Limits.of(DEFAULTS))


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ me { id } }", None, 2),
        # 1 + 100 × (1 + 1 + 100 × (1 + 2))
        ("{ grids(first: 100) { nodes { residents(first: 100) { nodes { id name } } } } }", None, 30201),
        # first from a variable; absent, the default page (20)
        ("query($n: Int) { grids(first: $n) { totalCount nodes { id } } }", {"n": 3}, 1 + 1 + 3 * 2),
        ("query($n: Int) { grids(first: $n) { totalCount nodes { id } } }", {}, 1 + 1 + 20 * 2),
        ("{ grids { nodes { residents { nodes { id } } } } }", None, 1 + 20 * (1 + 1 + 20 * 2)),
        # never more than the largest page
        ("{ grids(first: 100000) { nodes { id } } }", None, 1 + 100 * 2),
        # a backward page costs as a forward one
        ("{ grids(last: 10) { nodes { residents(last: 20) { nodes { id } } } } }", None, 1 + 10 * (2 + 20 * 2)),
        # a fragment costs where it is spread
        ("{ grids(first: 10) { ...C } } fragment C on GridConnection { nodes { id name } }", None, 1 + 10 * 3),
        ("{ grids(first: 10) { edges { node { id } } } }", None, 1 + 10 * (1 + 2)),
        # a list without paging counts once
        ("{ disputes(first: 5) { nodes { parties { name } } } }", None, 1 + 5 * (1 + 2)),
    ],
)
def test_cost(gw: Gateway, query: str, variables: dict[str, Any] | None, cost: int) -> None:
    assert cost_of(gw, query, variables) == cost


async def test_cost_follows_the_variables(armoured: Gateway) -> None:
    query = "query($n: Int!) { grids(first: $n) { nodes { residents(first: $n) { nodes { id name } } } } }"
    assert await armoured.query(query, {"n": 5})
    error = await one_error(armoured, query, {"n": 50})
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 5000, "cost": 1 + 50 * (2 + 50 * 3)}


def test_a_fragment_spread_twice_at_every_level_is_costed_quickly(gw: Gateway) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    query = "{ ...F0 } " + fragments + " fragment F30 on Query { me { id } }"
    assert cost_of(gw, query) == 2 * 2**30
    # … and refused before that, for its root fields, measured just as quickly.
    assert gw.runtime.full_executor.prepare(query).errors[0]["message"] == (
        f"Query has {2**30} root fields; the limit is 20"
    )


async def test_a_policy_overrides_the_limits_for_its_role(armoured: Gateway) -> None:
    runtime = armoured.runtime
    shipped = runtime.policies
    worker = shipped.roles["grid_worker"]
    lowered = dataclasses.replace(worker, limits={"cost": 100, "aliases": 2})
    runtime.install(dataclasses.replace(shipped, roles={**shipped.roles, "grid_worker": lowered}))
    try:
        page = "{ residents(first: 50) { nodes { id name } } }"
        error = await one_error(armoured, page, role="grid_worker")
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 100, "cost": 151}
        error = await one_error(armoured, "{ a: me { id } b: me { id } c: me { id } }", role="grid_worker")
        assert error["message"] == "Query has 3 aliases; the limit is 2"
        assert await armoured.query(page, role="committee_staff")  # other roles keep the settings
    finally:
        runtime.install(shipped)


def test_limits_in_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("role: r\nlimits:\n  cost: 2000\n  aliases: 5\n")
    _, _, policy = read_policy(path)
    assert policy.limits == {"cost": 2000, "aliases": 5}
    path.write_text("role: r\nlimits:\n  costs: 2000\n  depth: 0\n")
    with pytest.raises(PolicyError) as raised:
        read_policy(path)
    assert [p.split(": ", 1)[1] for p in raised.value.problems] == [
        "unknown limit 'costs'; one of depth, tokens, aliases, root_fields, directives, cost",
        "limit depth must be a positive whole number",
    ]


def test_partner_scopes_take_the_wider_limit(gw: Gateway) -> None:
    shipped = gw.runtime.policies
    scopes = {
        "a": dataclasses.replace(shipped.scopes["dispute:read"], limits={"cost": 100, "depth": 5}),
        "b": dataclasses.replace(shipped.scopes["dispute:mediate"], limits={"cost": 300}),
    }
    merged = dataclasses.replace(shipped, scopes=scopes).for_scopes(["a", "b"])
    assert merged.limits == {"cost": 300, "depth": 5}


@contextmanager
def slow_statements(gw: Gateway, prefix: str, seconds: float) -> Iterator[None]:
    """Each statement starting with ``prefix`` is held up ``seconds`` (the event loop with it)."""
    engine = gw.runtime.databases.engine("dispute").sync_engine

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(prefix):
            time.sleep(seconds)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


REPORT = """mutation { reportDispute(input: {title: "slow", category: NEIGHBOUR, description: "d",
  parties: [{name: "张三", role: COMPLAINANT}]}) { dispute { id } } }"""


async def test_an_operation_past_its_time_is_stopped_and_its_write_rolled_back(
    armoured: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = "{ disputes { totalCount } }"
    before = (await armoured.query(count))["disputes"]["totalCount"]
    monkeypatch.setattr(armoured.runtime.settings, "operation_timeout", 0.1)
    # The dispute row is inserted, then the transaction is held up past the time-out before it commits.
    with slow_statements(armoured, "INSERT INTO dispute_outbox", 0.4):
        response = await armoured.post(REPORT, role="grid_worker")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(DEFAULTS.retry_after_seconds)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "TIMEOUT" and "0.1 s" in error["message"]
    monkeypatch.undo()
    assert (await armoured.query(count))["disputes"]["totalCount"] == before
    assert await armoured.query("{ me { id } }")  # the gateway serves on


async def test_a_query_past_its_time_is_a_503(armoured: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(armoured.runtime.settings, "operation_timeout", 0.1)
    with slow_statements(armoured, "SELECT", 0.3):
        response = await armoured.post("{ disputes(first: 3) { nodes { title } } }")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["TIMEOUT"]


async def test_heavy_operations_wait_for_a_slot_and_light_ones_never_do() -> None:
    admission = Admission(heavy_cost=100, slots=1)
    order: list[str] = []
    release = asyncio.Event()

    async def run(name: str, cost: int) -> None:
        async with admission.admit(cost):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(run("first", 500))
    await asyncio.sleep(0)
    second = asyncio.create_task(run("second", 100))
    light = asyncio.create_task(run("light", 99))
    await light
    assert order == ["first", "light"]  # the second heavy one waits for the slot
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first", "light", "second"]
