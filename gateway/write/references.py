"""Writes obey reads: every ID in a mutation's input must name a row the caller can see.

Checked once for every mutation, before any of them runs, from the schema's input types: an
argument or input field of type ``ID`` — a new one included — is looked up through the node
fetcher of the type its global ID names, which reads through the caller's row scope. A hidden
row and a missing one give the same ``NOT_FOUND``, so a write never tells the caller a record
exists; and since nothing has run yet, nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from gateway.data import decode_id
from gateway.kernel import BadUserInput, Context, not_found


def _root_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            yield from _root_fields(fragments[selection.name.value].selection_set, fragments)


def _ids(value: Any, type_: GraphQLInputType, path: str) -> Iterator[tuple[str, str]]:
    """(argument path, global ID) for every ID within one coerced input value."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if value is None:
        return
    if isinstance(type_, GraphQLList):
        for index, item in enumerate(value):
            yield from _ids(item, type_.of_type, f"{path}[{index}]")
    elif type_ is GraphQLID or getattr(type_, "name", None) == "ID":
        yield path, str(value)
    elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
        for name, field in type_.fields.items():
            key = field.out_name or name
            if key in value:
                yield from _ids(value[key], field.type, f"{path}.{name}")


def mutation_references(
    schema: GraphQLSchema,
    document: DocumentNode,
    definition: OperationDefinitionNode,
    variables: dict[str, Any] | None,
) -> list[tuple[str, str, str]]:
    """Every (mutation, argument path, global ID) the operation's mutations are given."""
    mutation = schema.mutation_type
    coerced = get_variable_values(schema, definition.variable_definitions or (), variables or {})
    if mutation is None or not isinstance(coerced, VariableValues):
        return []  # execution reports bad variables itself
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: list[tuple[str, str, str]] = []
    for node in _root_fields(definition.selection_set, fragments):
        field = mutation.fields.get(node.name.value)
        if field is None:
            continue
        arguments = get_argument_values(field, node, coerced)
        for name, argument in field.args.items():
            key = argument.out_name or name
            if key in arguments:
                found.extend((node.name.value, path, id_) for path, id_ in _ids(arguments[key], argument.type, name))
    return found


async def check_references(ctx: Context, references: list[tuple[str, str, str]]) -> None:
    """NOT_FOUND for the first ID that names no row the caller can see (malformed IDs are left to the
    mutation, which names the type it expected).

    A grant with ``check: none`` belongs to a partner system that writes without reading (the
    camera feed, the rental platform): its mutation resolves what it names itself.
    """
    seen: set[str] = set()
    for mutation, path, global_id in references:
        granted = ctx.policy.mutation(mutation) if ctx.policy is not None else None
        if granted is None or granted.check == "none" or global_id in seen:
            continue
        seen.add(global_id)
        try:
            type_name, pk = decode_id(global_id)
        except BadUserInput:
            continue
        fetch = ctx.nodes.get(type_name)
        if fetch is None:
            continue
        if await fetch(ctx, pk) is None:
            raise not_found(type_name, path)
