"""How big a document may be: a token bound for the parser; depth, aliases, root fields and
directives as validation rules run before any other (so an oversized document costs little).

Introspection has a bound of its own: the standard introspection query (GraphiQL's Docs panel)
nests about 15 levels through ``ofType``, deeper than any ordinary query needs. The cost of an
operation, which depends on its variables, is measured in ``cost.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Limits:
    """The bounds one principal's documents are held to (settings, overridden by its policy's ``limits:``)."""

    depth: int = 12
    introspection_depth: int = 20
    tokens: int = 1000
    aliases: int = 15
    root_fields: int = 20
    directives: int = 50
    cost: int = 5000
    # Pages assumed where ``first`` is absent, and the largest a ``first`` can ask for.
    default_page: int = 20
    max_page: int = 100

    @classmethod
    def of(cls, settings: Any, overrides: Mapping[str, int] | None = None) -> Limits:
        limits = cls(
            depth=settings.max_query_depth,
            introspection_depth=settings.max_introspection_depth,
            tokens=settings.max_tokens,
            aliases=settings.max_aliases,
            root_fields=settings.max_root_fields,
            directives=settings.max_directives,
            cost=settings.max_cost,
            default_page=settings.default_page_size,
            max_page=settings.max_page_size,
        )
        return replace(limits, **dict(overrides or {}))


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


def width_limit(limits: Limits) -> type[ValidationRule]:
    """A validation rule refusing operations with too many aliases, root fields or directives.

    Fragments count wherever they are spread (once per spread), measured once each.
    """

    class WidthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.widths = Widths(context)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            aliases, _, directives = self.widths.measure(node.selection_set)
            directives += len(node.directives or ())
            roots = self.widths.roots(node.selection_set)
            for count, limit, what in (
                (aliases, limits.aliases, "aliases"),
                (roots, limits.root_fields, "root fields"),
                (directives, limits.directives, "directives"),
            ):
                if count > limit:
                    self.report_error(QueryTooComplex(f"Query has {count} {what}; the limit is {limit}", limit=limit))
                    return

    return WidthLimit


class Widths:
    """(aliases, fields, directives) under a selection set, fragments expanded."""

    def __init__(self, context: ValidationContext) -> None:
        self.context = context
        self.fragments: dict[str, tuple[int, int, int]] = {}
        self.root_counts: dict[str, int] = {}

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int, int]:
        aliases = fields = directives = 0
        for selection in selection_set.selections if selection_set else ():
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                below = self.measure(selection.selection_set)
                aliases += below[0] + (selection.alias is not None)
                fields += below[1] + 1
                directives += below[2]
            elif isinstance(selection, InlineFragmentNode):
                below = self.measure(selection.selection_set)
                aliases, fields, directives = aliases + below[0], fields + below[1], directives + below[2]
            elif isinstance(selection, FragmentSpreadNode):
                below = self.fragment(selection.name.value)
                aliases, fields, directives = aliases + below[0], fields + below[1], directives + below[2]
        return aliases, fields, directives

    def roots(self, selection_set: SelectionSetNode | None) -> int:
        """How many fields the operation asks for at its root (through fragments, measured once each)."""
        count = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self.roots(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self.root_counts:
                    self.root_counts[name] = 0  # a cycle counts as nothing (another rule reports it)
                    fragment = self.context.get_fragment(name)
                    self.root_counts[name] = self.roots(fragment.selection_set) if fragment is not None else 0
                count += self.root_counts[name]
        return count

    def fragment(self, name: str) -> tuple[int, int, int]:
        if name not in self.fragments:
            # Cycles and unknown fragments are other rules' to report: meanwhile they count as nothing.
            self.fragments[name] = (0, 0, 0)
            fragment: FragmentDefinitionNode | None = self.context.get_fragment(name)
            if fragment is not None:
                aliases, fields, directives = self.measure(fragment.selection_set)
                self.fragments[name] = (aliases, fields, directives + len(fragment.directives or ()))
        return self.fragments[name]
