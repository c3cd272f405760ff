"""Every DateTime in an answer, found by walking the answer along its document and the schema:
what tests/test_compiled_reads.py checks carries the zone's offset on every answer of its corpus."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
)

ZONE = ZoneInfo("Asia/Shanghai")  # the default GATEWAY_TIMEZONE, which the test gateways keep
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$")
# Where the corpus must reach DateTime fields, or checking it shows little: every domain, the trail.
EVERYWHERE = {"Resident.registeredAt", "Dispute.reportedAt", "PlateAlert.raisedAt", "AuditRecord.recordedAt"}


def _unwrapped(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


class DateTimes:
    """Walks an answer along its document and schema, keeping every DateTime value by Type.field."""

    def __init__(self, schema: GraphQLSchema, document: str) -> None:
        parsed = parse(document)
        self.schema = schema
        self.fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        self.operation = operations[0]
        self.found: list[tuple[str, str]] = []

    def walk(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        root = self.schema.query_type
        assert root is not None
        self._selections(self.operation.selection_set, root, data)
        return self.found

    def _selections(self, selection_set: SelectionSetNode, parent: Any, data: dict[str, Any]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, data)
            elif isinstance(selection, InlineFragmentNode):
                on = (
                    parent
                    if selection.type_condition is None
                    else self.schema.get_type(selection.type_condition.name.value)
                )
                self._selections(selection.selection_set, on, data)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                self._selections(fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value), data)

    def _field(self, node: FieldNode, parent: Any, data: dict[str, Any]) -> None:
        key = node.alias.value if node.alias else node.name.value
        fields = getattr(parent, "fields", {})
        if key not in data or node.name.value not in fields:
            return
        named = get_named_type(fields[node.name.value].type)
        for value in self._flat(data[key]):
            if named.name == "DateTime":
                self.found.append((f"{parent.name}.{node.name.value}", value))
            elif node.selection_set is not None and isinstance(value, dict):
                self._selections(node.selection_set, self._runtime_type(named, value), value)

    def _runtime_type(self, named: Any, value: dict[str, Any]) -> Any:
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType) and "__typename" in value:
            return self.schema.get_type(value["__typename"])
        return named

    def _flat(self, value: Any) -> Iterator[Any]:
        if isinstance(value, list):
            for item in value:
                yield from self._flat(item)
        elif value is not None:
            yield value


def with_offset(value: str, zone: ZoneInfo = ZONE) -> bool:
    if not ISO_WITH_OFFSET.match(value):
        return False
    moment = datetime.fromisoformat(value)
    return moment.utcoffset() == zone.utcoffset(moment.replace(tzinfo=None))


def declared(schema: GraphQLSchema) -> set[str]:
    """Type.field of every DateTime field of the object types of ``schema``."""
    return {
        f"{name}.{field}"
        for name, gql_type in schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__")
        for field, definition in gql_type.fields.items()
        if _unwrapped(definition.type).name == "DateTime"
    }


def offsets_checked(schema: GraphQLSchema, document: str, body: dict[str, Any]) -> set[str]:
    """Type.field of the DateTime values in ``body`` (the answer to ``document``), each asserted to
    carry the zone's offset."""
    if not body.get("data"):
        return set()
    found = DateTimes(schema, document).walk(body["data"])
    for field, value in found:
        assert with_offset(value), (field, value, document)
    return {field for field, _ in found}
