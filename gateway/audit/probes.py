"""The look-ups and filters an operation made, per alias, with keyed hashes in place of values.

``{ a: resident(idNumber: "…1234") { name } b: resident(idNumber: "…1234") { name } }``
is recorded as two probes whose ``idNumber`` hashes are equal: repeated probing of one
value shows in the trail, the value never does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Undefined,
    Visitor,
    get_named_type,
    is_abstract_type,
    value_from_ast_untyped,
    visit,
)

from gateway.audit.keys import keyed_hash

# Page arguments say how much, not whom: they are not look-ups.
PAGING = frozenset({"first", "last", "after", "before"})


@dataclass(frozen=True)
class Probe:
    """One field's arguments: where it sits in the response, which field, argument path → keyed hash."""

    path: str
    field: str
    arguments: tuple[tuple[str, str], ...]

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "field": self.field, "arguments": dict(self.arguments)}


def _leaves(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in sorted(value.items()):
            yield from _leaves(f"{name}.{key}", inner)
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _leaves(f"{name}[{n}]", inner)
    elif value is not None and value is not Undefined:
        # A variable the request did not send is no value probed (the operation cannot run).
        yield name, value


def _domain(name: str) -> str:
    """What a value is (``idNumber`` of ``filter.idNumber`` or ``input.parties[0].idNumber``): it is
    hashed with the value, so one ID number probed by look-up, filter or registration hashes alike,
    while no principal can have an arbitrary value hashed under another argument's name — an
    auditor's own ``node(id: "<a guessed ID number>")`` does not produce the look-up's hash."""
    return re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _holds_personal(named: GraphQLNamedType | None, sensitive: Mapping[str, set[str]], depth: int = 0) -> bool:
    """Whether a field of this type returns rows with personal data (directly, through a page, or any node)."""
    if named is None:
        return False
    if is_abstract_type(named) or sensitive.get(named.name):
        return True
    if isinstance(named, GraphQLObjectType) and depth < 2:
        for inner in ("nodes", "edges", "node"):
            found = named.fields.get(inner)
            if found is not None and _holds_personal(get_named_type(found.type), sensitive, depth + 1):
                return True
    return False


def probes(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | None,
    variables: dict[str, Any] | None,
    sensitive: Mapping[str, set[str]],
    key: bytes,
) -> tuple[Probe, ...]:
    """Every look-up or filter the chosen operation (and its fragments) makes on personal data, or any write."""
    info = TypeInfo(schema)
    found: list[Probe] = []
    path: list[str] = []
    mutation_root = schema.mutation_type

    class Collect(Visitor):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> Any:
            return None if operation is None or node is operation else self.SKIP

        def enter_fragment_definition(self, node: Any, *_: object) -> None:
            path.append(f"...{node.name.value}")

        def leave_fragment_definition(self, node: Any, *_: object) -> None:
            path.pop()

        def enter_field(self, node: FieldNode, *_: object) -> None:
            path.append(node.alias.value if node.alias else node.name.value)
            parent, definition = info.get_parent_type(), info.get_field_def()
            if parent is None or definition is None or not node.arguments:
                return
            if parent is not mutation_root and not _holds_personal(get_named_type(definition.type), sensitive):
                return
            hashed = tuple(
                (name, keyed_hash(key, _domain(name) + "\x1f" + _text(value)))
                for argument in node.arguments
                if argument.name.value not in PAGING
                for name, value in _leaves(argument.name.value, value_from_ast_untyped(argument.value, variables))
            )
            if hashed:
                found.append(Probe(".".join(path), f"{parent.name}.{node.name.value}", hashed))

        def leave_field(self, node: FieldNode, *_: object) -> None:
            path.pop()

    visit(document, TypeInfoVisitor(info, Collect()))
    return tuple(found)
