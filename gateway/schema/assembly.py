"""The unified schema, assembled at start-up from the registered domains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from inspect import isawaitable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from gateway.audit import AccessQuery, AuditQuery, note_lookup
from gateway.data import decode_id
from gateway.kernel import Domain, Info
from gateway.kernel.times import DEFAULT_ZONE
from gateway.policy import (
    ENGINE_GOVERNED,
    OUTSIDE,
    Attributes,
    LookupRule,
    Policy,
    RateLimited,
    current_budgets,
    field_access,
)
from gateway.schema.me import Me
from gateway.schema.node import Node
from gateway.schema.per_policy import Grants, PolicySchema, Resolver, wrap_resolvers
from gateway.schema.scalars import DATE, DATE_TIME, date_time
from gateway.schema.subgraph import ServiceQuery, federated, keeps, owners, subgraph_sdl


@strawberry.type
class EngineQuery:
    @strawberry.field(description="当前调用者 / the authenticated caller")
    def me(self, info: Info) -> Me:
        return Me.of(info.context.principal)

    @strawberry.field(description="按全局标识查找任意对象 / fetch any object by its global ID")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="全局标识 / global ID")],
    ) -> Node | None:
        type_name, pk = decode_id(str(id))
        fetch = info.context.nodes.get(type_name)
        return None if fetch is None else await fetch(info.context, pk)


# Strawberry's own types carry English-only descriptions; every name in the schema is bilingual.
DESCRIPTIONS = {
    "Query": "查询入口 / root of all queries",
    "Mutation": "变更入口 / root of all mutations",
    "Subscription": "订阅入口(WebSocket) / root of all subscriptions, over WebSocket",
    "Date": DATE,
    "DateTime": DATE_TIME,
    "Decimal": "定点小数(字符串) / fixed-point decimal, as a string",
}


# Engine types that hold data a policy must grant.


def build_schema(
    domains: Sequence[Domain],
    policy: Policy | None = None,
    zone: tzinfo = ZoneInfo(DEFAULT_ZONE),
    subgraph: str | None = None,
) -> PolicySchema:
    """The whole schema, or (given a policy) only what the policy grants; times in ``zone``; given a
    domain's name, only the part its subgraph serves (``gateway.schema.subgraph``)."""
    serving = domains if subgraph is None else [d for d in domains if d.name == subgraph]
    if subgraph is not None and not serving:
        raise ValueError(f"no domain named {subgraph!r}")
    engine: tuple[type, ...] = (EngineQuery, AuditQuery, AccessQuery) if subgraph in (None, domains[0].name) else ()
    if subgraph is not None:
        engine = (ServiceQuery, *engine)
    query: Any = merge_types("Query", (*engine, *(d.query for d in serving)))
    roots: dict[str, Any] = {}
    for kind, name in (("mutation", "Mutation"), ("subscription", "Subscription")):
        parts = tuple(getattr(d, kind) for d in serving if getattr(d, kind) is not None)
        roots[kind] = merge_types(name, parts) if parts else None
    grants = None
    if policy is not None:
        governed = frozenset({*ENGINE_GOVERNED, *(name for d in domains for name in d.types)})
        attributes = Attributes.of(domains)
        grants = Grants(policy, governed, NameConverter(), attributes)
        # A root type with nothing granted is left out: GraphQL forbids an empty one.
        roots = {k: v for k, v in roots.items() if v is not None and grants.type_visible(v.__strawberry_definition__)}
    keep = None if subgraph is None else keeps(domains, subgraph)
    # A subgraph knows every entity, if only as a reference, so that ``node`` can answer any of them.
    entities = [
        cls
        for d in domains
        for _, cls in d.types.values()
        if subgraph is not None and (grants is None or grants.type_visible(cls.__strawberry_definition__))
    ]
    schema = PolicySchema(
        query=query,
        grants=grants,
        keep=keep,
        types=entities,
        scalar_overrides={datetime: date_time(zone)},
        **{k: v for k, v in roots.items() if v is not None},
    )
    for name, description in DESCRIPTIONS.items():
        named = schema._schema.type_map.get(name)
        if named is not None:
            named.description = description
    if policy is not None and grants is not None:
        wrap_resolvers(schema, lambda t, f, resolve: _reporting_redaction(resolve, policy, attributes, t, f))
        budgeted = grants.budgeted
        wrap_resolvers(
            schema, lambda t, f, resolve: _spending(resolve, *budgeted[f]) if t == "Query" and f in budgeted else None
        )
    return schema


def build_subgraph(
    domains: Sequence[Domain], policy: Policy | None, subgraph: str, zone: tzinfo = ZoneInfo(DEFAULT_ZONE)
) -> GraphQLSchema:
    """The executable schema of one domain's Federation v2 subgraph, as ``policy`` grants it."""
    schema = build_schema(domains, policy, zone, subgraph=subgraph)
    classes = {cls: name for d in domains for name, (_, cls) in d.types.items()}
    return federated(schema._schema, owners(domains), subgraph, classes)


def subgraph_sdl_of(domains: Sequence[Domain], policy: Policy | None, subgraph: str) -> str:
    """What the composer reads for ``subgraph`` under ``policy`` (all of it when None)."""
    return subgraph_sdl(build_schema(domains, policy, subgraph=subgraph)._schema, owners(domains), subgraph)


def _spending(resolve: Resolver, rule: LookupRule, spending: frozenset[str]) -> Resolver:
    """A budgeted look-up: every probe spends the principal's budget; past it, RATE_LIMITED and nothing."""

    async def resolve_spending(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        field = f"{info.parent_type.name}.{info.field_name}"
        probes = sum(len(v) if isinstance(v, list) else 1 for k, v in args.items() if k in spending and v is not None)
        key = (str(info.context.principal.id), field)
        budgets = current_budgets.get()
        for _ in range(max(probes, 1)):
            try:
                spent = await budgets.spend(key, rule.budget)
            except Exception:
                note_lookup(f"{field}: refused")
                raise RateLimited(f"{field}: the look-up budget cannot be checked now; try again later") from None
            if not spent:
                note_lookup(f"{field}: refused")
                raise RateLimited(f"{field}: look-up budget of {rule.budget} an hour is spent", budget=rule.budget)
            note_lookup(field)
        result = resolve(source, info, **args)
        return await result if isawaitable(result) else result

    return resolve_spending


def _reporting_redaction(
    resolve: Resolver, policy: Policy, attributes: Attributes, type_name: str, field_name: str
) -> Resolver | None:
    """For a field shown only on rows in the reader's own area: note where it was withheld."""
    if field_access(policy, attributes, type_name, field_name) != "own_area_only":
        return None

    def resolve_noting(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        value = resolve(source, info, **args)
        if value is None and getattr(source, OUTSIDE, False):
            redacted = info.context.extensions.setdefault("redacted", [])
            redacted.append(".".join(str(p) for p in info.path.as_list()))
        return value

    return resolve_noting


def export_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"
