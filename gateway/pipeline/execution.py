"""Parse, validate and execute one GraphQL operation; shape its errors for the caller.

Documents are parsed and validated once per schema and text (an LRU cache), then
executed by graphql-core against the schema Strawberry built.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from gateway.audit import selected_fields
from gateway.kernel import GatewayError

log = logging.getLogger("gateway.execution")

_SUGGESTION = re.compile(r"\s*Did you mean .*\?$")


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[dict[str, Any], ...]
    # Every Type.field the document selects, for the audit record.
    selected: frozenset[str] = frozenset()


def error_dict(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


def _located(error: GraphQLError, code: str) -> dict[str, Any]:
    # Suggestions can name fields the caller's own schema should not reveal.
    shaped = error_dict(_SUGGESTION.sub("", error.message), code)
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return shaped


def _depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: int) -> int:
    if selection_set is None:
        return seen
    deepest = seen
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen + 1))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen))
    return deepest


def query_depth(document: DocumentNode) -> int:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((_depth(op.selection_set, fragments, 0) for op in operations), default=0)


class Executor:
    """Runs operations against one GraphQL schema, caching prepared documents."""

    def __init__(self, schema: GraphQLSchema, max_depth: int, cache_size: int = 512) -> None:
        self.schema = schema
        self.max_depth = max_depth
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self._cache_size = cache_size

    def prepare(self, query: str) -> Prepared:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        prepared = self._prepare(query)
        self._cache[query] = prepared
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query)
        except GraphQLError as error:
            return Prepared(None, (_located(error, "GRAPHQL_PARSE_FAILED"),))
        errors = validate(self.schema, document)
        if errors:
            return Prepared(None, tuple(_located(e, "GRAPHQL_VALIDATION_FAILED") for e in errors))
        depth = query_depth(document)
        if depth > self.max_depth:
            message = f"Query depth {depth} exceeds the limit of {self.max_depth}"
            return Prepared(None, (error_dict(message, "QUERY_TOO_COMPLEX"),))
        return Prepared(document, (), frozenset(selected_fields(self.schema, document)))

    def operation(self, document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
        """The operation to run: the one named, or the only one."""
        return get_operation_ast(document, operation_name)

    async def run(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult:
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
        return await result if not isinstance(result, ExecutionResult) else result


def shape_errors(result: ExecutionResult) -> list[dict[str, Any]]:
    """Errors as the caller sees them: known ones keep their code, anything else is INTERNAL."""
    shaped: list[dict[str, Any]] = []
    for error in result.errors or ():
        original = error.original_error
        if isinstance(original, GatewayError):
            entry = error_dict(original.message, original.extensions["code"] if original.extensions else "INTERNAL")
            if original.extensions:
                entry["extensions"].update(original.extensions)
        elif isinstance(error, GatewayError):
            entry = error_dict(error.message, str((error.extensions or {}).get("code", "INTERNAL")))
        elif original is None or error.path is None:
            # Raised by graphql-core before any resolver ran: variable coercion and the like.
            entry = error_dict(_SUGGESTION.sub("", error.message), "BAD_USER_INPUT")
        else:
            log.error("unexpected error at %s", error.path, exc_info=original)
            entry = error_dict("Internal server error", "INTERNAL")
        if error.locations:
            entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.path:
            entry["path"] = list(error.path)
        shaped.append(entry)
    return shaped
