"""The schema: every root field asked for, bilingual descriptions, and schema.graphql in step."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from gateway.kernel import load_registry
from gateway.schema import build_schema, export_sdl

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
REQUIRED_ROOTS = {
    "me",
    "node",
    "districts",
    "grids",
    "policeGrids",
    "residents",
    "resident",
    "households",
    "disputes",
    "volunteers",
    "volunteerTeams",
    "vehicles",
    "plateAlerts",
}


def _schema() -> GraphQLSchema:
    return build_schema(load_registry().domains)._schema


def test_schema_graphql_is_up_to_date() -> None:
    expected = export_sdl(build_schema(load_registry().domains))
    actual = (ROOT / "schema.graphql").read_text()
    assert actual == expected, "schema.graphql is out of date: run `gateway schema export`"


def test_required_root_fields() -> None:
    query = _schema().query_type
    assert query is not None
    assert set(query.fields) >= REQUIRED_ROOTS


def _bilingual(text: str | None) -> bool:
    return bool(text) and bool(CJK.search(text or "")) and bool(LATIN.search(text or "")) and " / " in (text or "")


def test_every_field_argument_and_type_has_a_bilingual_description() -> None:
    missing: list[str] = []
    for name, named in _schema().type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not _bilingual(named.description):
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                if not _bilingual(field.description):
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not _bilingual(arg.description):
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not _bilingual(value.description)]
    assert not missing, missing


def test_lists_are_relay_connections() -> None:
    query = _schema().query_type
    assert query is not None
    for root in REQUIRED_ROOTS - {"me", "node", "resident"}:
        field_type = query.fields[root].type
        inner = getattr(field_type, "of_type", field_type)
        assert inner.name.endswith("Connection"), root
        assert {"first", "after"} <= set(query.fields[root].args), root
        assert {"edges", "pageInfo", "totalCount"} <= set(inner.fields), root
