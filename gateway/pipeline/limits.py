"""How big a document may be: a token bound for the parser, a depth bound as a validation rule.

Introspection has a bound of its own: the standard introspection query (GraphiQL's Docs panel)
nests about 15 levels through ``ofType``, deeper than any ordinary query needs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
)

from gateway.kernel import QueryTooComplex

# The roots of introspection; ``__typename`` is a leaf and counts like any field.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

# graphql-core reports its limits as syntax errors; these openings tell them apart.
_TOO_MANY = "Syntax Error: Document contains more than"
_TOO_NESTED = "Syntax Error: Document is nested too deeply"


def parse_bounded(query: str, max_tokens: int) -> DocumentNode:
    """Parse ``query``; a document over ``max_tokens`` tokens (or comments) raises QueryTooComplex."""
    try:
        return parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)
    except GraphQLSyntaxError as error:
        if error.message.startswith(_TOO_MANY):
            raise QueryTooComplex(f"Query exceeds the limit of {max_tokens} tokens", limit=max_tokens) from None
        if error.message.startswith(_TOO_NESTED):
            raise QueryTooComplex("Query is nested too deeply to parse") from None
        raise


def depth_limit(max_depth: int, max_introspection_depth: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``max_depth`` (introspection: its own bound)."""

    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.depths = Depths(context)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            ordinary, introspection = self.depths.measure(node.selection_set, introspection=False)
            if ordinary > max_depth:
                self.report_error(too_deep(ordinary, max_depth, "Query"))
            if introspection > max_introspection_depth:
                self.report_error(too_deep(introspection, max_introspection_depth, "Introspection query"))

    return DepthLimit


def too_deep(depth: int, limit: int, what: str) -> QueryTooComplex:
    return QueryTooComplex(f"{what} depth {depth} exceeds the limit of {limit}", limit=limit)


class Depths:
    """How deep a selection set reaches: (ordinary fields, introspection), 0 where it has none."""

    def __init__(self, context: ValidationContext) -> None:
        self.context = context
        # A fragment is measured once per kind of place it is spread in: a document that spreads
        # each fragment twice into the next must not cost 2**n.
        self.fragments: dict[tuple[str, bool], tuple[int, int]] = {}

    def measure(self, selection_set: SelectionSetNode | None, *, introspection: bool) -> tuple[int, int]:
        ordinary = inner = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                below = introspection or selection.name.value in INTROSPECTION_ROOTS
                if selection.selection_set is None or not selection.selection_set.selections:
                    field = (0, 1) if below else (1, 0)
                else:
                    reach = self.measure(selection.selection_set, introspection=below)
                    # A path that reaches no field (an unknown fragment) gains no depth from this one.
                    field = (reach[0] + 1 if reach[0] else 0, reach[1] + 1 if reach[1] else 0)
            elif isinstance(selection, InlineFragmentNode):
                field = self.measure(selection.selection_set, introspection=introspection)
            elif isinstance(selection, FragmentSpreadNode):
                field = self.fragment(selection.name.value, introspection)
            else:  # pragma: no cover - the three kinds of selection
                continue
            ordinary, inner = max(ordinary, field[0]), max(inner, field[1])
        return ordinary, inner

    def fragment(self, name: str, introspection: bool) -> tuple[int, int]:
        key = (name, introspection)
        if key not in self.fragments:
            # Unknown fragments and cycles are other rules' to report (rules run side by side):
            # while a fragment is being measured it counts as nothing.
            self.fragments[key] = (0, 0)
            fragment: FragmentDefinitionNode | None = self.context.get_fragment(name)
            if fragment is not None:
                self.fragments[key] = self.measure(fragment.selection_set, introspection=introspection)
        return self.fragments[key]
