"""What an operation will cost, measured before it runs, from its page sizes and their nesting.

Every field costs one. A paged field (one with a ``first`` argument) multiplies the lists
directly under it (``nodes``, ``edges``) by its page: ``first`` as sent (variables resolved),
else the default page size, never more than the largest page anyone may ask for. So

    grids(first: 100) { nodes { residents(first: 100) { nodes { id name } } } }

costs 1 + 100 × (1 + 1 + 100 × (1 + 2)) = 30,201. A list that is not paged (a dispute's parties,
a resident's vehicles) counts once: its size is bounded by the data, not by the caller.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from gateway.pipeline.limits import Limits

PAGE_ARGUMENT = "first"
# A backward page (``last``) is as large as a forward one: the larger of the two is what a page costs.
PAGE_ARGUMENTS = ("first", "last")


def operation_cost(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> int:
    """The cost of running ``operation`` (of a validated document) with ``variables``."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return Costs(schema, fragments, variables or {}, limits).selections(operation.selection_set, root, None)


class Costs:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema, self.fragments, self.variables, self.limits = schema, fragments, variables, limits
        # A fragment is measured once per place kind (type, page): spreading it twice costs twice, not 2**n.
        self.measured: dict[tuple[str, str, int | None], int] = {}

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        definition = field_definition(self.schema, parent, node.name.value)
        if definition is None:
            return 1
        repeat = page if page is not None and is_list_type(get_nullable_type(definition.type)) else 1
        inner_page = self.page(node, definition) if PAGE_ARGUMENT in definition.args else None
        below = self.selections(node.selection_set, get_named_type(definition.type), inner_page)
        return repeat * (1 + below)

    def page(self, node: FieldNode, definition: GraphQLField) -> int:
        sizes: list[Any] = []
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                value = argument.value
                if isinstance(value, IntValueNode):
                    sizes.append(int(value.value))
                elif isinstance(value, VariableNode):
                    sizes.append(self.variables.get(value.name.value))
        sizes = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        sent: Any = max(sizes) if sizes else None
        if not isinstance(sent, int) or isinstance(sent, bool):
            default = definition.args[PAGE_ARGUMENT].default_value
            sent = default if isinstance(default, int) else self.limits.default_page
        page: int = max(0, min(sent, self.limits.max_page))
        return page

    def fragment(self, name: str, page: int | None) -> int:
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        kind = self.schema.get_type(fragment.type_condition.name.value)
        if kind is None:
            return 0
        key = (name, kind.name, page)
        if key not in self.measured:
            self.measured[key] = 0  # a cycle counts as nothing (validation refuses cycles anyway)
            self.measured[key] = self.selections(fragment.selection_set, kind, page)
        return self.measured[key]


def field_definition(schema: GraphQLSchema, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is schema.query_type and name == "__schema":
        return SchemaMetaFieldDef
    if parent is schema.query_type and name == "__type":
        return TypeMetaFieldDef
    fields = getattr(parent, "fields", None)
    found: GraphQLField | None = fields.get(name) if fields is not None else None
    return found
