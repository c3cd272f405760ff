"""graphql-cop's probes (github.com/dolevf/graphql-cop 1.15: its twelve, and the field duplication
it keeps switched off), each with its own pass condition, against the gateway under
``GATEWAY_ENV=production`` as every demo role. The README's table comes from the tool itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.kernel import Settings, load_registry
from gateway.pipeline import Runtime
from tests.harness import DEMO, SECRET, Gateway, running_gateway

ROLES = sorted(DEMO)
GRAPHIQL_WORDS = ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground")


@pytest.fixture(scope="module")
async def production(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('production') / 'gateway.db'}"
    async with running_gateway("sqlite", url, env="production", max_cost=Settings().max_cost) as gateway:
        yield gateway


def headers(gw: Gateway, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.tokens[role]}", "User-Agent": "graphql-cop/1.15"}


async def cop_query(gw: Gateway, role: str, query: str) -> httpx.Response:
    """graphql-cop's ``graph_query``: a JSON POST with operationName ``cop``."""
    return await gw.client.post("/graphql", json={"query": query, "operationName": "cop"}, headers=headers(gw, role))


def body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError:
        return None


def data(response: httpx.Response) -> dict[str, Any]:
    found = body(response)
    return (found.get("data") or {}) if isinstance(found, dict) else {}


@pytest.mark.parametrize("role", ROLES)
async def test_the_endpoint_is_still_graphql(production: Gateway, role: str) -> None:
    # graphql-cop's own detection: without it, it would run no probe at all.
    assert data(await cop_query(production, role, "query cop { __typename }")) == {"__typename": "Query"}


@pytest.mark.parametrize("role", ROLES)
async def test_alias_overloading(production: Gateway, role: str) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    response = await cop_query(production, role, "query cop { " + aliases + " }")
    assert "alias100" not in data(response)
    assert body(response)["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("role", ROLES)
async def test_array_based_batching(production: Gateway, role: str) -> None:
    batch = [{"query": "query cop { __typename }"}] * 10
    response = await production.client.post("/graphql", json=batch, headers=headers(production, role))
    assert not isinstance(body(response), list) and response.status_code == 400


@pytest.mark.parametrize("role", ROLES)
async def test_directive_overloading(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")
    assert len(body(response)["errors"]) != 10


@pytest.mark.parametrize("role", ROLES)
async def test_field_duplication(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "query cop { " + "__typename \n" * 500 + "} ")
    assert not data(response).get("__typename")


@pytest.mark.parametrize("role", ROLES)
async def test_trace_mode(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "query cop { __typename }")
    assert "tracing" not in json.dumps(body(response)).lower()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("query", ["query cop {__typename}", "mutation cop {__typename}"])
async def test_get_based_queries_and_mutations(production: Gateway, role: str, query: str) -> None:
    response = await production.client.get("/graphql", params={"query": query}, headers=headers(production, role))
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert not data(response)


@pytest.mark.parametrize("role", ROLES)
async def test_post_url_encoded_csrf(production: Gateway, role: str) -> None:
    response = await production.client.post(
        "/graphql", data={"query": "query cop { __typename }"}, headers=headers(production, role)
    )
    assert response.status_code == 415 and not data(response)


@pytest.mark.parametrize("role", ROLES)
async def test_field_suggestions(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "query cop { __schema { directive } }")
    assert "Did you mean" not in body(response)["errors"][0]["message"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/graphql", "/graphiql", "/"])
async def test_graphiql_ide(production: Gateway, role: str, path: str) -> None:
    response = await production.client.get(path, headers={**headers(production, role), "Accept": "text/html"})
    assert response.status_code in (404, 405)
    assert not any(word in response.text for word in GRAPHIQL_WORDS)


@pytest.mark.parametrize("role", ROLES)
async def test_introspection(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "query cop { __schema { types { name fields { name } } } }")
    assert "__schema" not in data(response)
    assert "introspection has been disabled" in body(response)["errors"][0]["message"]


@pytest.mark.parametrize("role", ROLES)
async def test_circular_introspection(production: Gateway, role: str) -> None:
    query = (
        "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } }"
        " } } } } } }"
    )
    assert "__schema" not in data(await cop_query(production, role, query))


@pytest.mark.parametrize("role", ROLES)
async def test_unhandled_errors(production: Gateway, role: str) -> None:
    response = await cop_query(production, role, "qwerty cop { abc }")
    assert "exception" not in json.dumps(body(response)).lower()
    assert body(response)["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


def test_introspection_can_be_left_to_staff() -> None:
    """``GATEWAY_INTROSPECTION=staff``: staff front-ends introspect, partner tokens never."""
    runtime = Runtime(Settings(secret_key=SECRET, env="production", introspection="staff"), load_registry())
    query = "{ __schema { queryType { name } } }"
    staff = runtime._executor(runtime.policies.roles["city_analyst"])
    partner = runtime._executor(runtime.policies.for_scopes(["dispute:read"]))
    assert staff.prepare(query).errors == ()
    refused = partner.prepare(query).errors
    assert refused and {e["extensions"]["code"] for e in refused} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection has been disabled" in refused[0]["message"]


def test_the_production_switch_turns_off_the_ide_get_and_introspection() -> None:
    development, production = Settings(), Settings(env="production")
    assert (development.graphiql_enabled, development.get_allowed, development.introspection_for) == (True, True, "all")
    assert (production.graphiql_enabled, production.get_allowed, production.introspection_for) == (False, False, "none")
    assert Settings(env="production", allow_get=True).get_allowed
