"""The read queries to run both ways: every query document written in the test suite, and one per
root list each role's own schema offers, generated from that schema (every plain field of the node,
and one level of every link and list the domains mark for the compiler)."""

from __future__ import annotations

import ast
from pathlib import Path

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
)

from gateway.compile import PLAN, RootList
from gateway.policy import COMPUTED_FROM

TESTS = Path(__file__).parent


def suite_queries() -> list[str]:
    """String literals of ``tests/`` that parse as documents holding only queries."""
    found: dict[str, None] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if "{" not in text or len(text) > 5000:
                continue
            try:
                document = parse(text)
            except GraphQLError:
                continue
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if operations and all(o.operation.value == "query" for o in operations) and len(operations) == 1:
                found[text] = None
    return list(found)


def _named(gql_type: object) -> object:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


def _definition(field: GraphQLField) -> object:
    return field.extensions.get("strawberry-definition")


def _plain(field: GraphQLField) -> bool:
    definition = _definition(field)
    if definition is None or field.args or isinstance(_named(field.type), GraphQLObjectType):
        return False
    resolver = getattr(definition, "base_resolver", None)
    return resolver is None or COMPUTED_FROM in definition.metadata or definition.python_name == "id"  # type: ignore[attr-defined]


def _scalars(gql_type: GraphQLObjectType) -> str:
    return " ".join(name for name, field in gql_type.fields.items() if _plain(field))


def _connection(gql_type: GraphQLObjectType, depth: int) -> str:
    parts = ["totalCount"] if "totalCount" in gql_type.fields else []
    parts.append("pageInfo { hasNextPage hasPreviousPage startCursor endCursor }")
    node = _named(gql_type.fields["nodes"].type)
    assert isinstance(node, GraphQLObjectType)
    parts.append(f"edges {{ cursor node {{ {_node(node, depth)} }} }}")
    return " ".join(parts)


def _node(gql_type: GraphQLObjectType, depth: int) -> str:
    parts = [_scalars(gql_type)]
    if depth > 0:
        for name, field in gql_type.fields.items():
            definition = _definition(field)
            mark = None if definition is None else definition.metadata.get(PLAN)  # type: ignore[attr-defined]
            target = _named(field.type)
            if mark is None or not isinstance(target, GraphQLObjectType):
                continue
            if "nodes" in target.fields:
                parts.append(f"{name}(first: 2) {{ {_connection(target, depth - 1)} }}")
            else:
                parts.append(f"{name} {{ {_node(target, depth - 1)} }}")
    return " ".join(p for p in parts if p)


def generated_queries(schema: GraphQLSchema) -> list[str]:
    """For each root list of ``schema``: a page of 3 with every plain field, and one of its links and lists;
    the same from the end, newest first."""
    query = schema.query_type
    assert query is not None
    out = []
    for name, field in query.fields.items():
        definition = _definition(field)
        if definition is None or not isinstance(definition.metadata.get(PLAN), RootList):  # type: ignore[attr-defined]
            continue
        target = _named(field.type)
        assert isinstance(target, GraphQLObjectType)
        out.append(f"{{ {name}(first: 3) {{ {_connection(target, 1)} }} }}")
        out.append(f"{{ {name}(first: 0) {{ {_connection(target, 0)} }} }}")
        # Ordered and backward pages: the compiler declines them, so the resolvers answer both ways.
        out.append(f"{{ {name}(last: 2, orderBy: {{id: DESC}}) {{ {_connection(target, 1)} }} }}")
    return out
