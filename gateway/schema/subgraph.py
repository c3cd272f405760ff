"""One domain served alone as an Apollo Federation v2 subgraph.

The subgraph is cut from the same per-policy schema as the single endpoint: its root fields are its
domain's, its own types keep all their (granted) fields, and every other domain's type is an
entity reference keyed by its global ID (``@key(fields: "id", resolvable: false)``) — the router
fetches that type's other fields from the subgraph that owns it, through ``_entities``, which
loads the row as the caller (row filter, masks) and answers null for a row the caller may not see.
Value types (connections, statistics, the caller) are ``@shareable``. The engine's own root fields
(``me``, ``node``, the audit log) are served by the subgraph of the first registered domain.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    print_schema,
)

from gateway.data import decode_id
from gateway.kernel import Domain
from gateway.schema.per_policy import FieldFilter

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n\n'
ROOTS = frozenset({"Query", "Mutation", "Subscription"})


@strawberry.type(name="_Service")
class Service:
    sdl: str


@strawberry.type
class ServiceQuery:
    """Federation's ``_service``: the subgraph's SDL for the router. It also keeps the query type of a
    subgraph whose root fields a policy grants none of (its types may still be reached) from being empty."""

    @strawberry.field(name="_service")
    def service(self) -> Service:
        return Service(sdl="")


def owners(domains: Sequence[Domain]) -> dict[str, str]:
    """Entity type name → the domain that owns its rows."""
    return {name: d.name for d in domains for name in d.types}


def keeps(domains: Sequence[Domain], subgraph: str) -> FieldFilter:
    """The field filter of ``subgraph``: its own types whole, other domains' types as bare references."""
    owned = owners(domains)

    def keep(type_name: str, field_name: str) -> bool:
        owner = owned.get(type_name)
        return owner is None or owner == subgraph or field_name == "id"

    return keep


def subgraph_sdl(schema: GraphQLSchema, owned: Mapping[str, str], subgraph: str) -> str:
    """The subgraph's SDL for the composer: the schema with its federation directives."""
    entities = {name for name in owned if name in schema.type_map}
    lines: list[str] = []
    for line in print_schema(_without_service(schema)).splitlines():
        match = re.match(r"^type (\w+)(.*) \{$", line)
        if match is not None:
            name = match.group(1)
            if name in entities:
                resolvable = "" if owned[name] == subgraph else ", resolvable: false"
                line = f'type {name}{match.group(2)} @key(fields: "id"{resolvable}) {{'
            elif name not in ROOTS:
                line = f"type {name}{match.group(2)} @shareable {{"
        lines.append(line)
    return LINK + "\n".join(lines) + "\n"


def _without_service(schema: GraphQLSchema) -> GraphQLSchema:
    """The schema as the composer should read it: no ``_service``, and no query type if that was all."""
    query = schema.query_type
    assert query is not None
    fields = {name: field for name, field in query.fields.items() if name != "_service"}
    kept = [
        t for name, t in schema.type_map.items() if name not in (query.name, "_Service") and not name.startswith("__")
    ]
    new_query = GraphQLObjectType(query.name, fields, description=query.description) if fields else None
    return GraphQLSchema(
        query=new_query,
        mutation=schema.mutation_type,
        subscription=schema.subscription_type,
        types=kept,
        directives=schema.directives,
    )


def federated(
    schema: GraphQLSchema, owned: Mapping[str, str], subgraph: str, classes: Mapping[type[Any], str]
) -> GraphQLSchema:
    """``schema`` with ``_service`` and, when it owns entities, ``_entities`` on its query type."""
    sdl = subgraph_sdl(schema, owned, subgraph)
    fields = {**schema.query_type.fields} if schema.query_type is not None else {}
    fields["_service"] = GraphQLField(fields["_service"].type, resolve=lambda *_: Service(sdl=sdl))
    own = [t for name, t in schema.type_map.items() if owned.get(name) == subgraph and isinstance(t, GraphQLObjectType)]
    extra: list[Any] = []
    if own:
        any_ = GraphQLScalarType("_Any", serialize=lambda v: v, parse_value=lambda v: v)
        entity = GraphQLUnionType("_Entity", own, resolve_type=lambda value, *_: classes.get(type(value)))
        fields["_entities"] = GraphQLField(
            GraphQLNonNull(GraphQLList(entity)),
            args={"representations": GraphQLArgument(GraphQLNonNull(GraphQLList(GraphQLNonNull(any_))))},
            resolve=_entities_of({t.name for t in own}),
        )
        extra += [any_, entity]
    query = schema.query_type
    assert query is not None
    new_query = GraphQLObjectType(
        query.name, fields, description=query.description, extensions=query.extensions, interfaces=query.interfaces
    )
    types = [t for name, t in schema.type_map.items() if name != query.name and not name.startswith("__")]
    out = GraphQLSchema(
        query=new_query,
        mutation=schema.mutation_type,
        subscription=schema.subscription_type,
        types=[*types, *extra],
        directives=schema.directives,
    )
    out._strawberry_schema = schema._strawberry_schema  # type: ignore[attr-defined]
    return out


def _entities_of(own: frozenset[str] | set[str]) -> Any:
    async def resolve(_: Any, info: GraphQLResolveInfo[Any], representations: list[Any]) -> list[Any]:
        context = info.context
        return list(await asyncio.gather(*(_entity(context, own, r) for r in representations)))

    return resolve


async def _entity(context: Any, own: frozenset[str] | set[str], representation: Any) -> Any:
    """One representation ``{__typename, id}`` as the caller may see it; null when hidden or foreign."""
    if not isinstance(representation, dict):
        return None
    type_name, global_id = representation.get("__typename"), representation.get("id")
    if type_name not in own or not isinstance(global_id, str):
        return None
    try:
        decoded, pk = decode_id(global_id)
    except Exception:
        return None
    fetch = context.nodes.get(type_name)
    if decoded != type_name or fetch is None:
        return None
    return await fetch(context, pk)
