"""The federated gateway's composition: each domain's subgraph, composed by @theguild/federation-composition,
offers every role exactly the schema the single endpoint gives it, and the checked-in supergraph is current.

Skipped with a reason when the composer is not installed (``make federation``), never under CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)
from graphql import (
    build_schema as parse_schema,
)

from gateway.kernel import load_registry
from gateway.policy import Policy, load_policies
from gateway.schema import build_schema, subgraph_sdl_of
from gateway.schema.compose import TOOLS, compose_all, default_urls, file_name, subgraphs
from gateway.schema.subgraph import LINK, owners

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = load_registry()
DOMAINS = REGISTRY.domains
SUPERGRAPH = ROOT / "gateway" / "schema" / "federation" / "supergraph" / "supergraph.graphql"


@pytest.fixture(scope="module", autouse=True)
def _composer() -> None:
    if shutil.which("node") and (TOOLS / "node_modules" / "@theguild").is_dir():
        return
    reason = f"the composer is not installed: run `make federation` (npm ci in {TOOLS.relative_to(ROOT)})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _policies() -> list[Policy | None]:
    """The whole schema, every role, and every partner scope alone and all together."""
    policies = load_policies(ROOT / "policies")
    return [
        None,
        *policies.roles.values(),
        *(policies.for_scopes([s]) for s in policies.scopes),
        policies.for_scopes(list(policies.scopes)),
    ]


def _shape(schema: GraphQLSchema) -> dict[str, object]:
    """Every type's fields with their types and arguments, enum values; what a caller can see of a schema."""
    out: dict[str, object] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            out[name] = {
                f: (str(field.type), sorted((a, str(arg.type)) for a, arg in field.args.items()))
                for f, field in named.fields.items()
            }
        elif isinstance(named, GraphQLInputObjectType):
            out[name] = {f: str(field.type) for f, field in named.fields.items()}
        else:
            out[name] = sorted(getattr(named, "values", {}) or ())
    return out


def test_the_checked_in_supergraph_is_current() -> None:
    composed = compose_all({"supergraph": subgraphs(DOMAINS, None, default_urls(DOMAINS))})["supergraph"]
    assert SUPERGRAPH.read_text() == composed.supergraph, "run `gateway schema supergraph`"


def test_every_role_gets_from_the_router_the_schema_the_gateway_gives_it() -> None:
    wanted = _policies()
    urls = default_urls(DOMAINS)
    composed = compose_all({file_name(p): subgraphs(DOMAINS, p, urls) for p in wanted})
    for policy in wanted:
        expected = _shape(build_schema(DOMAINS, policy)._schema)
        public = _shape(parse_schema(composed[file_name(policy)].public))
        assert public == expected, f"{file_name(policy)}: the composed schema differs from the gateway's"


def test_each_root_field_is_served_by_one_subgraph_and_each_entity_resolved_by_its_owner() -> None:
    owned = owners(DOMAINS)
    roots: dict[str, list[str]] = {}
    for domain in DOMAINS:
        sdl = subgraph_sdl_of(DOMAINS, None, domain.name)
        schema = parse_schema(sdl.removeprefix(LINK), assume_valid_sdl=True)
        for name in schema.query_type.fields if schema.query_type is not None else ():
            roots.setdefault(name, []).append(domain.name)
        for name in owned:
            if name not in schema.type_map:
                continue
            resolvable = f'type {name} implements Node @key(fields: "id") {{' in sdl
            assert resolvable == (owned[name] == domain.name), f"{domain.name}: {name}"
            if owned[name] != domain.name:
                fields = schema.type_map[name].fields  # type: ignore[attr-defined]
                assert set(fields) == {"id"}, f"{domain.name} serves fields of {owned[name]}'s {name}"
    assert roots and all(len(served) == 1 for served in roots.values()), roots
