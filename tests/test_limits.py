"""Limits on a document (tokens, depth, introspection depth), no "Did you mean", bounded caches."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from graphql import GraphQLSchema, get_introspection_query

from gateway.auth import Area, AreaKind, Authenticator, PrincipalDirectory, PrincipalRecord
from gateway.kernel import Settings, load_registry
from gateway.pipeline.execution import Executor
from gateway.pipeline.limits import Limits
from gateway.schema import build_schema
from tests.harness import DEMO, Gateway
from tests.live import serving, subscribed

ROLE = "grid_worker"
# Residents' households' members' households …: as deep as one likes.
DEEP = "{ grids { nodes { residents { nodes { household { %s } } } } } }"


def nested(path: str, inner: str, levels: int) -> str:
    """``path { path { … inner … } }``, ``levels`` times; ``path`` may itself open braces."""
    opens = path.count("{") + 1
    return f"{path} {{ " * levels + inner + " }" * (opens * levels)


def full_schema() -> GraphQLSchema:
    return build_schema(load_registry().domains)._schema


# (query, variables, the names a suggestion would have revealed)
MISSPELT: list[tuple[str, dict[str, Any] | None, list[str]]] = [
    ("{ residents { nodes { nam } } }", None, ["name"]),
    ("{ residents(filtr: {}) { totalCount } }", None, ["filter"]),
    ("{ residents(filter: {statu: ACTIVE}) { totalCount } }", None, ["status"]),
    ("{ residents(filter: {status: ACTIV}) { totalCount } }", None, ["ACTIVE"]),
    ("{ residents(filter: {area: {gridd: 1}}) { totalCount } }", None, ["gridId"]),
    ("query($f: ResidentFiltr) { residents(filter: $f) { totalCount } }", {"f": {}}, ["ResidentFilter"]),
    ("query($f: ResidentFilter) { residents(filter: $f) { totalCount } }", {"f": {"statu": "ACTIVE"}}, ["status"]),
    ("query($f: ResidentFilter) { residents(filter: $f) { totalCount } }", {"f": {"status": "ACTIV"}}, ["ACTIVE"]),
    (
        "query($f: ResidentFilter) { residents(filter: $f) { totalCount } }",
        {"f": {"area": {"gridd": "x"}}},
        ["gridId"],
    ),
    # idNumber is denied to a grid worker: not even a near miss may bring it up.
    ('{ residents(filter: {idNumbe: "1"}) { totalCount } }', None, ["idNumber"]),
    ("{ residents { nodes { idNumbe } } }", None, ["idNumber"]),
]


@pytest.mark.parametrize(("query", "variables", "hidden"), MISSPELT)
async def test_no_error_suggests_a_name(
    gw: Gateway, query: str, variables: dict[str, Any] | None, hidden: list[str]
) -> None:
    errors = await gw.errors(query, variables, role=ROLE)
    for error in errors:
        assert "Did you mean" not in error["message"], error
        for name in hidden:
            assert not re.search(rf"\b{name}\b", error["message"]), error
        assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}, error


async def test_a_subscription_variable_suggests_nothing(gw: Gateway) -> None:
    executor = gw.runtime.full_executor
    prepared = executor.prepare("subscription($a: AreaFilter) { residentChanged(area: $a) { eventId } }")
    assert prepared.document is not None, prepared.errors
    started = await executor.subscribe(prepared.document, {"a": {"gridd": "x"}}, None, None)
    errors = getattr(started, "errors", None)
    assert errors, started
    assert all("Did you mean" not in e.message and "gridId" not in e.message for e in errors), errors


async def test_a_document_over_the_token_limit_is_one_query_too_complex_error(gw: Gateway) -> None:
    fields = " ".join(f"a{i}: __typename" for i in range(400))
    errors = await gw.errors("{ " + fields + " }")
    assert errors == [
        {
            "message": "Query exceeds the limit of 1000 tokens",
            "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": 1000},
        }
    ]


async def test_comments_count_against_the_limit_too(gw: Gateway) -> None:
    errors = await gw.errors("#\n" * 1001 + "{ __typename }")
    assert [e["extensions"] for e in errors] == [{"code": "QUERY_TOO_COMPLEX", "limit": 1000}]


async def test_a_document_nested_past_the_parser_is_too_complex(gw: Gateway) -> None:
    errors = await gw.errors("{ a " * 300 + "}" * 300)
    assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COMPLEX"]


async def test_a_query_deeper_than_the_limit_is_refused_naming_it(gw: Gateway) -> None:
    errors = await gw.errors(DEEP % nested("members { nodes { household", "number", 3))
    assert errors == [
        {
            "message": "Query depth 15 exceeds the limit of 12",
            "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": 12},
        }
    ]


async def test_depth_counts_through_fragments(gw: Gateway) -> None:
    def query(levels: int) -> str:
        return (
            "{ grids { nodes { ...G } } } fragment G on Grid { residents { nodes { ...R } } }"
            " fragment R on Resident { household { " + nested("members { nodes { household", "number", levels) + " } }"
        )

    errors = await gw.errors(query(3))
    assert [e["message"] for e in errors] == ["Query depth 15 exceeds the limit of 12"]
    assert await gw.query(query(2))  # depth 12


async def test_a_pathological_introspection_query_is_refused(gw: Gateway) -> None:
    query = '{ __type(name: "Resident") { fields { type { ' + nested("ofType", "name", 17) + " } } } }"
    errors = await gw.errors(query, role=ROLE)
    assert errors == [
        {
            "message": "Introspection query depth 21 exceeds the limit of 20",
            "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": 20},
        }
    ]
    # One level less is within the bound, though deeper than any ordinary query may go.
    data = await gw.query(query.replace("ofType { name }", "name"), role=ROLE)
    assert data["__type"]["fields"]


def test_introspection_has_its_own_bound() -> None:
    executor = Executor(full_schema(), Limits(depth=3, introspection_depth=16))
    assert executor.prepare(get_introspection_query(descriptions=True)).errors == ()
    assert executor.prepare("{ grids { nodes { residents { totalCount } } } }").errors[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": 3,
    }
    too_deep = Executor(full_schema(), Limits(depth=30, introspection_depth=14)).prepare(get_introspection_query())
    assert [e["message"] for e in too_deep.errors] == ["Introspection query depth 15 exceeds the limit of 14"]


def test_a_fragment_cycle_is_reported_not_recursed_into() -> None:
    prepared = Executor(full_schema()).prepare("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert prepared.document is None
    assert {e["extensions"]["code"] for e in prepared.errors} == {"GRAPHQL_VALIDATION_FAILED"}


def test_fragments_spread_twice_at_every_level_are_measured_quickly() -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = "{ ...F0 } " + fragments + " fragment F40 on Query { grids { nodes { id } } }"
    started = time.monotonic()
    prepared = Executor(full_schema(), Limits(depth=2)).prepare(query)
    assert time.monotonic() - started < 2
    assert [e["extensions"] for e in prepared.errors] == [{"code": "QUERY_TOO_COMPLEX", "limit": 2}]


def test_the_executors_defaults_are_the_settings_defaults() -> None:
    assert Executor(full_schema()).limits == Limits.of(Settings())


def test_the_prepared_document_cache_is_bounded() -> None:
    executor = Executor(full_schema(), cache_size=2)
    first = executor.prepare("{ me { id } }")
    assert executor.prepare("{ me { id } }") is first
    executor.prepare("{ me { role } }")
    assert executor.prepare("{ me { id } }") is first
    executor.prepare("{ me { name } }")
    executor.prepare("{ me { kind } }")
    assert executor.prepare("{ me { id } }") is not first


class CountingDirectory:
    """The gateway's own directory, counting look-ups."""

    def __init__(self, inner: PrincipalDirectory) -> None:
        self.inner = inner
        self.finds: list[str] = []

    async def find(self, principal_id: str) -> PrincipalRecord | None:
        self.finds.append(principal_id)
        return await self.inner.find(principal_id)

    async def all(self) -> list[PrincipalRecord]:
        return await self.inner.all()

    async def area(self, kind: AreaKind, key: int) -> Area | None:
        return await self.inner.area(kind, key)


async def test_the_principal_cache_keeps_only_the_most_recently_used(gw: Gateway) -> None:
    directory = CountingDirectory(gw.runtime.directory)
    authenticator = Authenticator(gw.runtime.tokens, directory, cache_seconds=3600, cache_size=2)
    for role in ("city_analyst", "grid_worker", "city_analyst", "auditor", "city_analyst", "grid_worker"):
        principal = await authenticator.authenticate(f"Bearer {gw.tokens[role]}")
        assert principal.role == role
    # grid_worker was the least recently used when auditor came, so it was looked up again.
    assert directory.finds == [DEMO["city_analyst"], DEMO["grid_worker"], DEMO["auditor"], DEMO["grid_worker"]]


async def test_a_subscription_over_the_socket_suggests_nothing(gw: Gateway) -> None:
    query = "subscription($a: AreaFilter) { residentChanged(area: $a) { eventId } }"
    async with serving(gw) as url, subscribed(url, gw.tokens[ROLE], query, {"a": {"gridd": "x"}}) as next_:
        message = await next_()
    assert message["type"] == "error", message
    assert message["payload"], message
    for error in message["payload"]:
        assert "Did you mean" not in error["message"] and "gridId" not in error["message"], error
