"""Every connection orders and pages backwards, found from the schema; ordering follows reads, from the policies.

A connection added later is covered without anyone listing it: the tests walk every field of every
type of the full schema and of each role's own schema whose type is a ``…Connection``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
from graphql import GraphQLField, GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, get_named_type

from gateway.kernel import graphql_name, load_registry
from gateway.policy import TESTS, Attributes, Policy, attribute, reads_in_clear
from gateway.schema import build_schema
from tests.harness import Gateway
from tests.test_role_snapshots import SUBJECTS

PAGING = {"first", "after", "last", "before", "orderBy"}


@cache
def schema_of(name: str | None) -> GraphQLSchema:
    return build_schema(load_registry().domains, None if name is None else SUBJECTS[name])._schema


@cache
def attributes() -> Attributes:
    return Attributes.of(load_registry().domains)


def connections(schema: GraphQLSchema) -> Iterator[tuple[str, str, GraphQLField]]:
    for type_name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            if get_named_type(field.type).name.endswith("Connection"):
                yield type_name, field_name, field


def order_input(field: GraphQLField) -> GraphQLInputObjectType:
    named = get_named_type(field.args["orderBy"].type)
    assert isinstance(named, GraphQLInputObjectType)
    return named


def keys_tested(order: GraphQLInputObjectType, key: str) -> list[str]:
    definition = (order.fields[key].extensions or {}).get("strawberry-definition")
    return list(getattr(definition, "metadata", {}).get(TESTS, ()))


@pytest.mark.parametrize("name", [None, *sorted(SUBJECTS)])
def test_every_connection_orders_and_pages_both_ways(name: str | None) -> None:
    found = list(connections(schema_of(name)))
    assert found or name is not None
    for type_name, field_name, field in found:
        assert set(field.args) >= PAGING, f"{type_name}.{field_name} lacks {PAGING - set(field.args)}"
        # Creation order (DESC = newest first) is there for every role: it tests no value.
        assert "id" in order_input(field).fields or order_input(field).name == "TaskOrder", f"{type_name}.{field_name}"


def test_every_order_key_names_the_attribute_it_sorts_by_and_a_column_that_has_a_value() -> None:
    """A key tests its attribute (so the policy governs it); its column is never NULL (so keyset
    pages are exact on both backends, which sort NULL differently)."""
    models = attributes().models
    checked = 0
    for _, _, field in connections(schema_of(None)):
        order = order_input(field)
        for key in order.fields:
            references = keys_tested(order, key)
            if key == "id" or order.name == "TaskOrder":
                continue
            assert len(references) == 1, f"{order.name}.{key} names no attribute"
            type_name, attribute_name = attribute(references[0])
            assert attribute_name == key, f"{order.name}.{key} tests {references[0]}"
            model = models.get(type_name)
            if model is None:  # a domain added in the tests
                continue
            columns = {graphql_name(c.key): c for c in model.__table__.columns}
            assert key in columns and not columns[key].nullable, f"{order.name}.{key}"
            checked += 1
    assert checked > 20


def _policy(name: str) -> Policy:
    return SUBJECTS[name]


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_no_role_orders_or_searches_by_a_value_it_cannot_read_in_clear(name: str) -> None:
    """From the policies: every order key, search or filter over an attribute the role reads masked,
    only on some rows, or not at all, is absent from the role's schema; every one it reads in clear stays."""
    full, own, policy = schema_of(None), schema_of(name), _policy(name)
    absent = kept = 0
    for type_name, named in full.type_map.items():
        if not isinstance(named, GraphQLInputObjectType) or not type_name.endswith(("Order", "Filter")):
            continue
        mine = own.type_map.get(type_name)
        for key in named.fields:
            references = keys_tested(named, key)
            if not references:
                continue
            clear = reads_in_clear(policy, attributes(), references)
            present = isinstance(mine, GraphQLInputObjectType) and key in mine.fields
            if not clear:
                assert not present, f"{name} may order or filter by {type_name}.{key} ({references})"
                absent += 1
            elif present:
                kept += 1
    for _, _, field in connections(own):
        for argument_name, argument in field.args.items():
            definition = (argument.extensions or {}).get("strawberry-definition")
            references = list(getattr(definition, "metadata", {}).get(TESTS, ()))
            if references and policy.lookup(argument_name) is None:
                assert reads_in_clear(policy, attributes(), references), f"{name}: {argument_name}"
    assert absent + kept > 0


async def test_every_order_key_a_role_cannot_read_in_clear_is_refused_on_its_root_lists(gw: Gateway) -> None:
    """From the policies: for each role, each root list it has and each key of the list's order that
    sorts by an attribute the role does not read in clear, asking for it fails validation."""
    full = schema_of(None)
    assert full.query_type is not None
    refused = 0
    for name in sorted(n for n in SUBJECTS if n.startswith("role-")):
        role, policy, own = name.removeprefix("role-"), _policy(name), schema_of(name)
        if own.query_type is None:
            continue
        for field_name, field in own.query_type.fields.items():
            if not get_named_type(field.type).name.endswith("Connection") or "orderBy" not in field.args:
                continue
            order = order_input(full.query_type.fields[field_name])
            for key in order.fields:
                references = keys_tested(order, key)
                if not references or reads_in_clear(policy, attributes(), references):
                    continue
                query = f"{{ {field_name}(first: 1, orderBy: {{{key}: ASC}}) {{ totalCount }} }}"
                errors = await gw.errors(query, role=role)
                assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", (role, field_name, key)
                refused += 1
    assert refused > 0


async def test_an_order_a_role_may_use_follows_the_values_it_reads(gw: Gateway) -> None:
    for role in ("grid_worker", "committee_staff", "community_police"):
        if not reads_in_clear(_policy(f"role-{role}"), attributes(), ["Resident.name"]):
            continue
        data = await gw.query("{ residents(first: 50, orderBy: {name: DESC}) { nodes { name } } }", role=role)
        names = [node["name"] for node in data["residents"]["nodes"]]
        assert names == sorted(names, reverse=True)
