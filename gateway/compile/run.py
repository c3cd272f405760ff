"""Running a plan: the statements level by level, then the answer assembled from their JSON.

Each root list is one statement; each cross-source link (a link or a nested list whose rows live
in another domain's source) is one batched statement per level, over the keys the level above
returned. Rows are noted for the audit record and withheld row-dependent values reported under
``extensions.redacted`` exactly where today's resolvers would.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import orjson

from gateway.audit import note_row
from gateway.compile.shapes import (
    COLUMN,
    GLOBAL_ID,
    ChildList,
    Computed,
    ConnectionShape,
    LinkTo,
    ManyList,
    NodeShape,
    RootField,
)
from gateway.compile.sql import Builder
from gateway.data import KEYS, Ready, encode_id
from gateway.data.ids import encode_cursor
from gateway.kernel import Context

Row = list[Any]
Linked = LinkTo | ChildList | ManyList
# Each root list with its statement, built and compiled once per plan.
Plan = list[tuple[RootField, Any]]
Fetched = dict[int, dict[Hashable, Any]]


class Run:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.statements = 0
        # Cross-source results, by id() of the link or list field: parent key → row(s).
        self.fetched: Fetched = {}
        self.redacted: list[str] = []
        # Rows returned, noted for the audit record only once the whole answer stands.
        self.rows: list[tuple[str, Any]] = []

    def _builder(self, model: type[Any]) -> Builder:
        domain = str(model.__domain__)
        return Builder(self.ctx, self.ctx.databases.engine(domain).dialect.name)

    async def _scalar(self, model: type[Any], ready: Ready) -> Any:
        text = await self.ctx.databases.value(str(model.__domain__), ready)
        self.statements += 1
        return orjson.loads(text) if isinstance(text, str) else text

    async def answer(self, plan: Plan) -> dict[str, Any]:
        pages: list[tuple[RootField, Any, list[Row]]] = []
        for root, statement in plan:
            total, rows = await self._scalar(root.connection.node.model, statement)
            pages.append((root, total, rows or []))
        await self._follow([(r.connection.node, rows[: r.connection.first]) for r, _, rows in pages])
        data = {root.key: self._connection(root.connection, total, rows, root.key) for root, total, rows in pages}
        for type_name, pk in self.rows:
            note_row(type_name, pk)
        return data

    async def _follow(self, level: list[tuple[NodeShape, list[Row]]]) -> None:
        """Fetch every cross-source link of these rows, one statement per link, then their links."""
        while level:
            wanted: dict[int, tuple[Linked, set[Hashable]]] = {}
            for shape, rows in level:
                _cross_keys(shape, rows, wanted)
            level = [await self._fetch(field, list(keys)) for field, keys in wanted.values() if keys]

    async def _fetch(self, field: Linked, keys: list[Hashable]) -> tuple[NodeShape, list[Row]]:
        """The rows ``field`` links to from these parent keys, kept by key; and those rows, to follow."""
        found = await self._scalar(_model(field), self._statement(field).bound(**{KEYS: sorted(keys)}))  # type: ignore[type-var]
        if isinstance(field, LinkTo):
            child = field.node
            rows = found[0] or []
            self.fetched[id(field)] = {row[child.at["id"]]: row for row in rows}
            return child, rows
        if isinstance(field, ManyList):
            grouped: dict[Hashable, list[Row]] = {}
            for parent, row in found[0] or []:
                grouped.setdefault(parent, []).append(row)
            self.fetched[id(field)] = grouped
            return field.node, [row for rows in grouped.values() for row in rows]
        connection = field.connection
        paged, counts = found
        by_parent: dict[Hashable, list[Row]] = {}
        for parent, row in paged or []:
            by_parent.setdefault(parent, []).append(row)
        totals = {parent: n for parent, n in counts or []}
        self.fetched[id(field)] = {k: (by_parent.get(k, []), totals.get(k, 0)) for k in keys}
        return connection.node, [row for rows in by_parent.values() for row in rows[: connection.first]]

    def _statement(self, field: Linked) -> Ready:
        """The link's statement, built and compiled the first time its plan runs it; its parent keys
        are its one parameter bound per request (``KEYS``)."""
        if field.statement is None:
            model = _model(field)
            builder = self._builder(model)
            if isinstance(field, LinkTo):
                statement = builder.rows_by_key(field.node)
            elif isinstance(field, ManyList):
                statement = builder.many(field.node, field.column)
            else:
                statement = builder.children(field.connection)
            field.statement = self.ctx.databases.ready(str(model.__domain__), statement)
        return field.statement  # type: ignore[no-any-return]

    def _connection(self, shape: ConnectionShape, total: Any, rows: list[Row], path: str) -> dict[str, Any]:
        shown = rows[: shape.first] if shape.first else []
        node = shape.node
        id_at = node.at.get("id", 0)
        out: dict[str, Any] = {}
        for row in shown:
            # The page's rows are read, and recorded, even where only its count or cursors are asked for.
            self.rows.append((node.cls.__name__, row[id_at]))
        for key, part, subs in shape.parts:
            if part == "totalCount":
                out[key] = int(total or 0)
            elif part == "nodes":
                if node.reports:
                    out[key] = [self._node(node, r, f"{path}.{key}.{i}") for i, r in enumerate(shown)]
                else:
                    out[key] = [self._node(node, r, "") for r in shown]
            elif part == "edges":
                edges = []
                for i, r in enumerate(shown):
                    edge: dict[str, Any] = {}
                    for sub_key, name in subs:
                        if name == "cursor":
                            edge[sub_key] = encode_cursor(r[id_at])
                        else:
                            at_path = f"{path}.{key}.{i}.{sub_key}" if node.reports else ""
                            edge[sub_key] = self._node(node, r, at_path)
                    edges.append(edge)
                out[key] = edges
            else:
                info: dict[str, Any] = {}
                for sub_key, name in subs:
                    if name == "hasNextPage":
                        info[sub_key] = bool(shape.first) and len(rows) > shape.first
                    elif name == "hasPreviousPage":
                        info[sub_key] = shape.after is not None
                    elif name == "startCursor":
                        info[sub_key] = encode_cursor(shown[0][id_at]) if shown else None
                    else:
                        info[sub_key] = encode_cursor(shown[-1][id_at]) if shown else None
                out[key] = info
        return out

    def _node(self, shape: NodeShape, row: Row, path: str) -> dict[str, Any]:
        """The answer of one row; ``path`` is its place in the response where ``shape.reports`` (else "")."""
        type_name = shape.cls.__name__
        pk = row[shape.at["id"]]
        self.rows.append((type_name, pk))
        outside = shape.outside_at is not None and bool(row[shape.outside_at])
        out: dict[str, Any] = {}
        for kind, key, at, how, withheld in shape.steps:
            if kind == COLUMN:
                value = row[at]
                if value is None:
                    if withheld and outside:
                        self.redacted.append(f"{path}.{key}")
                    out[key] = None
                else:
                    out[key] = value if how is None else how(value)
            elif kind == GLOBAL_ID:
                out[key] = encode_id(type_name, pk)
            else:
                out[key] = self._other(shape, row, pk, at, how, f"{path}.{key}" if withheld else "")
        return out

    def _other(self, shape: NodeShape, row: Row, pk: Any, index: int, field: Any, path: str) -> Any:
        """A computed value, a link or a nested list of one row; ``path`` is the field's own."""
        if isinstance(field, Computed):
            made = object.__new__(shape.cls)
            made.__dict__.update({c: field.decode[c](row[shape.at[c]]) for c in field.inputs})
            return field.serialize(field.function(made))
        if isinstance(field, LinkTo):
            if field.same_source:
                linked = row[shape.inline_at[index]]
            else:
                linked = self.fetched.get(id(field), {}).get(row[shape.at[field.parent_column]])
            return None if linked is None else self._node(field.node, linked, path)
        if isinstance(field, ManyList):
            many = self.fetched.get(id(field), {}).get(pk, [])
            if field.node.reports:
                return [self._node(field.node, r, f"{path}.{i}") for i, r in enumerate(many)]
            return [self._node(field.node, r, "") for r in many]
        rows, total = self.fetched.get(id(field), {}).get(pk, ([], 0))
        return self._connection(field.connection, total, rows, path)


def _model(field: Linked) -> type[Any]:
    return field.connection.node.model if isinstance(field, ChildList) else field.node.model


def _cross_keys(shape: NodeShape, rows: list[Row], wanted: dict[int, tuple[Linked, set[Hashable]]]) -> None:
    """The keys each cross-source link of ``shape`` needs, looking into same-source links' rows too."""
    for index, field in enumerate(shape.fields):
        if isinstance(field, LinkTo) and field.same_source:
            inner = [r[shape.inline_at[index]] for r in rows if r[shape.inline_at[index]] is not None]
            _cross_keys(field.node, inner, wanted)
        elif isinstance(field, LinkTo):
            keys = wanted.setdefault(id(field), (field, set()))[1]
            keys.update(r[shape.at[field.parent_column]] for r in rows if r[shape.at[field.parent_column]] is not None)
        elif isinstance(field, ChildList | ManyList):
            keys = wanted.setdefault(id(field), (field, set()))[1]
            keys.update(r[shape.at["id"]] for r in rows)
