"""Parse, validate and execute one GraphQL operation; shape its errors for the caller.

Documents are parsed and validated once per schema and text (an LRU cache), then
executed by graphql-core against the schema Strawberry built. graphql-core is asked to
leave "Did you mean" out of every message: a suggestion names what the caller did not.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    specified_rules,
    subscribe,
    validate,
)

from gateway.audit import selected_fields
from gateway.compile import variables_key
from gateway.kernel import GatewayError, Kept, QueryTooComplex
from gateway.pipeline.cost import operation_cost
from gateway.pipeline.limits import Limits, depth_limit, parse_bounded, width_limit
from gateway.pipeline.text import unusable_literals

log = logging.getLogger("gateway.execution")


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[dict[str, Any], ...]
    # Every Type.field the document selects, for the audit record.
    selected: frozenset[str] = frozenset()
    # The document writes a string no database can store (see pipeline.text).
    unusable: bool = False


def error_dict(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


_FOUND = re.compile(r",? found: .*$", re.S)
_LITERAL = re.compile(r"(value)(?: at [^:]+)?: (?=['\"{\[\d-]).*$", re.S)


_ENUM = re.compile(r"Value '.*?' does not exist in", re.S)
_ISO = re.compile(r"(cannot represent an? \w+)(?:: .*)?$", re.S)


def without_values(message: str) -> str:
    """graphql-core repeats the input it refused (``…, found: {'idNumber': '4101…'}``); a message
    may be logged or shown by a client, so it names what was wrong and never echoes the value."""
    stripped = _FOUND.sub(".", message)
    stripped = _ENUM.sub("The value does not exist in", stripped)
    stripped = _ISO.sub(r"\1.", stripped)
    return _LITERAL.sub(r"\1.", stripped)


def _located(error: GraphQLError, code: str) -> dict[str, Any]:
    # The gateway's own errors (the limits) keep their code and details, such as the limit.
    extra = dict(error.extensions or {}) if isinstance(error, GatewayError) else {}
    shaped = error_dict(without_values(error.message), str(extra.pop("code", code)), **extra)
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return shaped


def _merged(errors: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The same message reported at several places is one error with all its locations (ten unknown
    ``@aa`` directives are one mistake, not ten errors to read)."""
    merged: dict[str, dict[str, Any]] = {}
    for error in errors:
        known = merged.get(error["message"])
        if known is None:
            merged[error["message"]] = error
        elif "locations" in error:
            known.setdefault("locations", []).extend(error["locations"])
    return tuple(merged.values())


class Executor:
    """Runs operations against one GraphQL schema under one set of limits, caching prepared documents."""

    def __init__(
        self, schema: GraphQLSchema, limits: Limits | None = None, cache_size: int = 512, *, introspection: bool = True
    ) -> None:
        self.schema = schema
        self.limits = limits = limits or Limits()
        self.introspection = introspection
        # The limits run first, alone: a document over them is refused before the costlier rules run.
        self._limit_rules = (depth_limit(limits.depth, limits.introspection_depth), width_limit(limits))
        closed = () if introspection else (NoSchemaIntrospectionCustomRule,)
        self._rules = (*specified_rules, *closed)
        self._cache: Kept[str, Prepared] = Kept(cache_size)
        # The costs of kept documents run again with the same variables, by identity as their probes
        # are (see pipeline.operation): the document is kept with its cost.
        self._costs: Kept[tuple[int, int, str], tuple[DocumentNode, int]] = Kept(cache_size)

    def prepare(self, query: str) -> Prepared:
        return self._cache.made(query, lambda: self._prepare(query))

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse_bounded(query, self.limits.tokens)
        except GatewayError as error:
            return Prepared(None, (_located(error, error.code),))
        except GraphQLError as error:
            return Prepared(None, (_located(error, "GRAPHQL_PARSE_FAILED"),))
        over = validate(self.schema, document, self._limit_rules)
        if over:
            # One error, naming the first limit the document exceeds.
            return Prepared(None, (_located(over[0], "QUERY_TOO_COMPLEX"),))
        errors = validate(self.schema, document, self._rules, hide_suggestions=True)
        if errors:
            return Prepared(None, _merged([_located(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]))
        return Prepared(document, (), frozenset(selected_fields(self.schema, document)), unusable_literals(document))

    def cost(self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None) -> int:
        """The operation's cost with these variables; over the limit raises QueryTooComplex."""
        given = variables_key(operation, variables)
        if given is None:
            cost = self._cost(document, operation, variables)
        else:
            key = (id(document), id(operation), given)
            kept = self._costs.get(key)
            if kept is None or kept[0] is not document:
                kept = self._costs.put(key, (document, self._cost(document, operation, variables)))
            cost = kept[1]
        if cost > self.limits.cost:
            limit = self.limits.cost
            raise QueryTooComplex(f"Query cost {cost} exceeds the limit of {limit}", limit=limit, cost=cost)
        return cost

    def _cost(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None
    ) -> int:
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        return operation_cost(self.schema, fragments, operation, variables, self.limits)

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
            hide_suggestions=True,
        )
        return await result if not isinstance(result, ExecutionResult) else result

    async def subscribe(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a subscription: its event stream, or the result carrying why it could not start."""
        started = subscribe(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            hide_suggestions=True,
        )
        return await started if inspect.isawaitable(started) else started


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
            entry = error_dict(without_values(error.message), "BAD_USER_INPUT")
        else:
            log.error("unexpected error at %s", error.path, exc_info=original)
            entry = error_dict("Internal server error", "INTERNAL")
        if error.locations:
            entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.path:
            entry["path"] = list(error.path)
        shaped.append(entry)
    return shaped
