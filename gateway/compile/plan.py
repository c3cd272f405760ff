"""Planning: a validated query and the reader's policy become shapes, or None where the compiler
cannot answer for today's resolvers (then the whole operation runs through them).

What is plannable is learnt from the domains' registrations — each GraphQL type's table and
Strawberry class, the fields' metadata (``PLAN`` marks, ``COMPUTED_FROM``) — never named here.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values, get_variable_values

from gateway.compile.marks import PLAN, Children, Link, Many, RootList
from gateway.compile.shapes import (
    ChildList,
    Column,
    Computed,
    ConnectionShape,
    Convert,
    Field,
    LinkTo,
    ManyList,
    NodeShape,
    RootField,
)
from gateway.data import PageArgs
from gateway.data.pagination import within_limit
from gateway.kernel import Context, GatewayError
from gateway.policy import COMPUTED_FROM, Attributes, field_access


class Unplannable(Exception):
    """Something the compiler does not answer for: the operation falls back to the resolvers."""


PAGE_ARGS = ("first", "after")
PAGE_INFO = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")


class Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        models: Mapping[str, type[Any]],
        ctx: Context,
        attributes: Attributes,
        variables: Any,
        dialects: Mapping[str, str],
    ) -> None:
        self.schema, self.models, self.ctx = schema, models, ctx
        self.attributes, self.variables, self.dialects = attributes, variables, dialects

    def roots(self, definition: OperationDefinitionNode) -> list[RootField]:
        if definition.operation.value != "query" or definition.directives:
            raise Unplannable("not a query")
        query = self.schema.query_type
        assert query is not None
        out = []
        for node in _fields(definition.selection_set):
            gql = query.fields[node.name.value]
            mark = _mark(gql)
            if not isinstance(mark, RootList):
                raise Unplannable(f"root field {node.name.value}")
            if self.ctx.policy is not None and self.ctx.policy.lookup(node.name.value) is not None:
                raise Unplannable("budgeted look-up")
            connection = self.connection(gql, node)
            out.append(RootField(_key(node), connection))
        return out

    def connection(self, gql: GraphQLField, node: FieldNode, parent_column: str | None = None) -> ConnectionShape:
        args = self._arguments(gql, node)
        if any(value is not None for name, value in args.items() if name not in PAGE_ARGS):
            raise Unplannable("filter argument")
        connection_type = _object(gql.type)
        node_type = _object(connection_type.fields["nodes"].type)
        model = self._model(node_type)
        try:
            page = PageArgs.parse(self.ctx, args.get("first"), args.get("after"))
            within_limit(self.ctx, model, page)
        except GatewayError as error:
            raise Unplannable("bad page arguments") from error
        shape = ConnectionShape(NodeShape(node_type.name, _origin(node_type), model), page.first, page.after)
        shape.parent_column = parent_column
        node_selections: list[FieldNode] = []
        for part in _fields(node.selection_set):
            name = part.name.value
            if name == "totalCount":
                shape.parts.append((_key(part), name, []))
            elif name == "nodes":
                shape.parts.append((_key(part), name, []))
                node_selections.append(part)
            elif name == "pageInfo":
                subs = [(_key(s), s.name.value) for s in _fields(part.selection_set)]
                if any(field not in PAGE_INFO for _, field in subs):
                    raise Unplannable("pageInfo field")
                shape.parts.append((_key(part), name, subs))
            elif name == "edges":
                subs = [(_key(s), s.name.value) for s in _fields(part.selection_set)]
                for s in _fields(part.selection_set):
                    if s.name.value == "node":
                        node_selections.append(s)
                    elif s.name.value != "cursor":
                        raise Unplannable("edge field")
                shape.parts.append((_key(part), name, subs))
            else:
                raise Unplannable(f"connection field {name}")
        if len(node_selections) > 1:
            # Two selections of the same nodes would have to agree field by field: left to the resolvers.
            raise Unplannable("nodes selected twice")
        if node_selections:
            self.fill(shape.node, node_type, node_selections[0])
        return shape

    def fill(self, shape: NodeShape, gql_type: GraphQLObjectType, node: FieldNode) -> None:
        columns = {c.key for c in shape.model.__table__.columns}
        source = _domain(shape.model)
        for sub in _fields(node.selection_set):
            gql = gql_type.fields[sub.name.value]
            shape.fields.append(self._field(shape, gql_type, gql, sub, columns, source))

    def _field(
        self,
        shape: NodeShape,
        gql_type: GraphQLObjectType,
        gql: GraphQLField,
        node: FieldNode,
        columns: set[str],
        source: str,
    ) -> Field:
        name, key = node.name.value, _key(node)
        definition = gql.extensions["strawberry-definition"]
        access = self._access(gql_type.name, name)
        if name == "id" and definition.base_resolver is not None and node.selection_set is None:
            return Column(key, "id", global_id=True)
        mark = definition.metadata.get(PLAN)
        if definition.base_resolver is None:
            if node.arguments or definition.python_name not in columns:
                raise Unplannable(f"field {gql_type.name}.{name}")
            column = definition.python_name
            return Column(key, column, self._convert(gql.type, shape.model, column), access == "own_area_only")
        if access not in ("allowed", "masked") and mark is None:
            raise Unplannable(f"row-dependent computed {gql_type.name}.{name}")
        if isinstance(mark, Link):
            if node.arguments or access != "allowed":
                raise Unplannable(f"link {gql_type.name}.{name}")
            target = _object(gql.type)
            child = NodeShape(target.name, _origin(target), self._model(target))
            self.fill(child, target, node)
            return LinkTo(key, child, mark.key, _domain(child.model) == source)
        if isinstance(mark, Children):
            if access != "allowed":
                raise Unplannable(f"list {gql_type.name}.{name}")
            connection = self.connection(gql, node, mark.key)
            if mark.via is not None:
                via = self.models.get(mark.via)
                if via is None or _domain(via) != _domain(connection.node.model):
                    raise Unplannable(f"list {gql_type.name}.{name} through {mark.via}")
                connection.via, connection.via_key = via, mark.via_key
            return ChildList(key, connection, _domain(connection.node.model) == source)
        if isinstance(mark, Many):
            if node.arguments or access != "allowed":
                raise Unplannable(f"list {gql_type.name}.{name}")
            target = _object(gql.type)
            child = NodeShape(target.name, _origin(target), self._model(target))
            self.fill(child, target, node)
            return ManyList(key, child, mark.key)
        computed_from = definition.metadata.get(COMPUTED_FROM)
        function = definition.base_resolver.wrapped_func
        if computed_from is None or node.arguments or access != "allowed" or not _plain_method(function):
            raise Unplannable(f"resolver {gql_type.name}.{name}")
        inputs = tuple(computed_from)
        decode = {c: self._decoder(shape.model, c) for c in inputs}
        return Computed(key, function, inputs, decode, _serializer(gql.type))

    def _access(self, type_name: str, field_name: str) -> str:
        policy = self.ctx.policy
        if policy is None or not policy.enforce:
            return "allowed"
        return field_access(policy, self.attributes, type_name, field_name)

    def _arguments(self, gql: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(gql, node, self.variables)
        except GraphQLError as error:
            raise Unplannable("argument") from error

    def _model(self, gql_type: GraphQLObjectType) -> type[Any]:
        model = self.models.get(gql_type.name)
        if model is None:
            raise Unplannable(f"type {gql_type.name} has no table")
        return model

    def _python_type(self, model: type[Any], column: str) -> type[Any]:
        try:
            python_type: type[Any] = model.__table__.columns[column].type.python_type
        except NotImplementedError:
            raise Unplannable(f"column {column}") from None
        if python_type not in (str, int, bool, float, date, datetime):
            raise Unplannable(f"column {column} of type {python_type.__name__}")
        return python_type

    def _decoder(self, model: type[Any], column: str) -> Convert:
        """JSON value → the Python value today's row would hold."""
        python_type = self._python_type(model, column)
        postgres = self.dialects[_domain(model)] == "postgresql"
        if python_type is date:
            return _none_safe(date.fromisoformat)
        if python_type is datetime:
            if postgres:
                return _none_safe(lambda v: datetime.fromisoformat(v).astimezone(UTC))
            return _none_safe(_sqlite_datetime)
        if python_type is bool:
            return _none_safe(bool)
        return _identity

    def _convert(self, gql_type: Any, model: type[Any], column: str) -> Convert | None:
        python_type = self._python_type(model, column)
        named = _unwrap(gql_type)
        if isinstance(named, GraphQLList | GraphQLObjectType):
            raise Unplannable(f"column {column} as a list or object")
        if python_type is str and isinstance(named, GraphQLScalarType) and named.name in ("String",):
            return None
        if python_type is int and isinstance(named, GraphQLScalarType) and named.name == "Int":
            return None
        decode = self._decoder(model, column)
        serialize = _serializer(gql_type)
        return lambda value: None if value is None else serialize(decode(value))


def _sqlite_datetime(value: Any) -> datetime:
    # SQLAlchemy stores SQLite datetimes as ISO text; its reader drops any offset the same way.
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def _identity(value: Any) -> Any:
    return value


def _none_safe(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _serializer(gql_type: Any) -> Convert:
    named = _unwrap(gql_type)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        serialize = named.serialize
        return lambda value: None if value is None else serialize(value)
    raise Unplannable("non-scalar value")


def _plain_method(function: Any) -> bool:
    if inspect.iscoroutinefunction(function):
        return False
    return list(inspect.signature(function).parameters) == ["self"]


def _unwrap(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    return gql_type


def _object(gql_type: Any) -> GraphQLObjectType:
    named = _unwrap(gql_type)
    if isinstance(named, GraphQLList):
        named = _unwrap(named.of_type)
    if not isinstance(named, GraphQLObjectType):
        raise Unplannable("not an object type")
    return named


def _origin(gql_type: GraphQLObjectType) -> type[Any]:
    origin: type[Any] = gql_type.extensions["strawberry-definition"].origin
    return origin


def _mark(gql: GraphQLField) -> Any:
    definition = gql.extensions.get("strawberry-definition")
    return None if definition is None else definition.metadata.get(PLAN)


def _domain(model: type[Any]) -> str:
    return str(model.__domain__)


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        return []
    out: list[FieldNode] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.name.value.startswith("__"):
            raise Unplannable("fragment, directive or meta field")
        out.append(selection)
    if len({_key(f) for f in out}) < len(out):
        # Selections merged under one key are left to graphql-core's rules.
        raise Unplannable("a response key selected twice")
    return out


def coerced_variables(
    schema: GraphQLSchema, definition: OperationDefinitionNode, variables: dict[str, Any] | None
) -> Any:
    """The request's variables coerced as graphql-core would; unusable ones leave it the errors to report."""
    coerced = get_variable_values(schema, definition.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise Unplannable("variables")
    return coerced
