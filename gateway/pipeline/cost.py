"""An operation's cost, estimated before it runs: the rate limits' ``cost_per_minute`` spends it.

Every field costs one, times how many times it may be resolved: a field with a ``first`` (or
``last``) argument — a page — multiplies what lies under it by that page size, a connection
asked without one by the default page size. So ``grids(first: 100) { residents(first: 100) {
nodes { name } } }`` costs about 100 × 100. One function, ``operation_cost``, so that a finer
measure (the document limits' own) can replace it in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from gateway.kernel import Settings

PAGE_ARGUMENTS = ("first", "last")
# Connections end so (``ResidentConnection``); their field names say it less reliably, so names
# of connection fields asked without a page size are recognised by their selections.
CONNECTION_FIELDS = frozenset({"nodes", "edges", "pageInfo", "totalCount"})


def _page(field: FieldNode, variables: Mapping[str, Any], settings: Settings) -> int:
    for argument in field.arguments or ():
        if argument.name.value not in PAGE_ARGUMENTS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, min(int(value.value), settings.max_page_size))
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return max(1, min(given, settings.max_page_size))
        return settings.default_page_size
    selections = field.selection_set.selections if field.selection_set else ()
    asked = {s.name.value for s in selections if isinstance(s, FieldNode)}
    return settings.default_page_size if asked & CONNECTION_FIELDS else 1


def _cost(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    settings: Settings,
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            under = _cost(selection.selection_set, fragments, variables, settings, seen)
            total += 1 + _page(selection, variables, settings) * under
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, fragments, variables, settings, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _cost(fragment.selection_set, fragments, variables, settings, seen | {name})
    return total


def operation_cost(
    document: DocumentNode,
    definition: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    settings: Settings,
) -> int:
    """The estimated cost of running ``definition`` of ``document`` with ``variables``; at least 1."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return max(1, _cost(definition.selection_set, fragments, variables or {}, settings, frozenset()))
