"""The standard introspection query (GraphiQL's Docs panel) works for every role and shows only its own schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    build_schema,
    get_introspection_query,
)

from tests.harness import DEMO, Gateway

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
# A partner's schema is that of its scopes: the demo agencies' scopes have snapshots of their own.
PARTNER_SNAPSHOTS = {
    "judicial_office": "scopes-judicial-office",
    "traffic_camera": "scopes-traffic-camera",
    "rental_platform": "scopes-rental-platform",
}


def snapshot_of(role: str) -> GraphQLSchema:
    name = PARTNER_SNAPSHOTS.get(role, f"role-{role}")
    return build_schema((SNAPSHOTS / f"{name}.graphql").read_text())


def types_of(schema: GraphQLSchema) -> dict[str, Any]:
    """Every named type with its fields (arguments, types, descriptions), input fields or values."""
    described: dict[str, Any] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        members: dict[str, Any] = {}
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            members = {
                field_name: (
                    str(field.type),
                    field.description,
                    sorted(f"{a}: {arg.type}" for a, arg in field.args.items()),
                )
                for field_name, field in type_.fields.items()
            }
        elif isinstance(type_, GraphQLInputObjectType):
            members = {field_name: (str(field.type), field.description) for field_name, field in type_.fields.items()}
        elif isinstance(type_, GraphQLEnumType):
            members = {value_name: value.description for value_name, value in type_.values.items()}
        elif isinstance(type_, GraphQLUnionType):
            members = {member.name: None for member in type_.types}
        described[name] = (type(type_).__name__, type_.description, members)
    return described


async def introspect(gw: Gateway, role: str) -> GraphQLSchema:
    data = await gw.query(get_introspection_query(descriptions=True), role=role)
    return build_client_schema(data)


@pytest.mark.parametrize("role", sorted(DEMO))
async def test_every_role_introspects_exactly_its_own_schema(gw: Gateway, role: str) -> None:
    introspected = types_of(await introspect(gw, role))
    expected = types_of(snapshot_of(role))
    assert introspected.keys() == expected.keys()
    for name, described in expected.items():
        assert introspected[name] == described, name


async def test_a_denied_field_is_absent_from_introspection(gw: Gateway) -> None:
    worker = await introspect(gw, "grid_worker")
    analyst = await introspect(gw, "city_analyst")
    for schema, has_id_number in ((worker, False), (analyst, True)):
        resident = schema.get_type("Resident")
        assert isinstance(resident, GraphQLObjectType)
        assert ("idNumber" in resident.fields) is has_id_number
        assert "name" in resident.fields
        resident_filter = schema.get_type("ResidentFilter")
        assert isinstance(resident_filter, GraphQLInputObjectType)
        assert ("idNumber" in resident_filter.fields) is has_id_number


async def test_graphiqls_fuller_introspection_query_is_accepted(gw: Gateway) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await gw.query(query, role="grid_worker")
    assert data["__schema"]["queryType"]["name"] == "Query"
