"""One statement per source per link level, whose single value is the JSON of the rows it reads.

Rows are JSON arrays in the order the node shape lays out (its ``at`` positions): the columns,
the row-dependence flag where the reader's scope has one, then each same-source link as a nested
array built by a correlated subquery. Row filters and masks come from the reader's ``RowScope``,
exactly as ``gateway.data.reads`` applies them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from gateway.compile.plan import Unplannable
from gateway.compile.shapes import ConnectionShape, LinkTo, NodeShape
from gateway.data import KEYS, among, city_count
from gateway.kernel import Context
from gateway.policy import OUTSIDE

PARENT, RANK, ROW, KEY = "gw_parent", "gw_rank", "gw_row", "gw_key"
# The parameter of a link's statement holding its parent keys: bound at run time (``Ready.bound``), so
# that the statement is built and compiled once, whatever the keys.


class Json:
    """The JSON functions of one dialect (PostgreSQL, or SQLite's JSON1 under other names)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def array(self, *values: Any) -> ColumnElement[Any]:
        return func.json_build_array(*values) if self.postgres else func.json_array(*values)

    def among(self, column: Any) -> ColumnElement[bool]:
        """``column`` is one of the keys bound as ``KEYS`` (see gateway.data.among)."""
        return among(column, KEYS, self.postgres)  # type: ignore[no-any-return]

    def embed(self, value: Any) -> ColumnElement[Any]:
        # SQLite forgets that a subquery's text is JSON; json() says it again.
        return value if self.postgres else func.json(value)

    def aggregate(self, rows: Select[Any], *order: str) -> ColumnElement[Any]:
        """The JSON array of ``rows``' ``ROW`` column, in ``order`` (SQLite: the order of ``rows`` itself)."""
        inner = rows.subquery()
        empty: ColumnElement[Any]
        agg: ColumnElement[Any]
        if self.postgres:
            agg = func.json_agg(aggregate_order_by(inner.c[ROW], *(inner.c[o] for o in order)))
            empty = literal_column("'[]'::json")
        else:
            agg = func.json_group_array(func.json(inner.c[ROW]))
            empty = func.json("[]")
        return select(func.coalesce(agg, empty)).select_from(inner).scalar_subquery()


class Builder:
    def __init__(self, ctx: Context, dialect: str) -> None:
        self.ctx, self.json = ctx, Json(dialect)

    def scoped_columns(self, model: type[Any]) -> dict[str, ColumnElement[Any]]:
        """Column key → the expression the reader reads (masked, or null on rows outside its area)."""
        return {str(c.key): c for c in self.ctx.scope.columns(model, self.ctx.principal)}

    def condition(self, model: type[Any]) -> ColumnElement[bool] | None:
        return self.ctx.scope.condition(model, self.ctx.principal)

    def row(self, shape: NodeShape, source: dict[str, Any], enclosing: frozenset[Any]) -> ColumnElement[Any]:
        """The JSON array of one row of ``shape``, its values read from ``source`` (key → expression)."""
        values: list[Any] = []
        shape.at = {}
        for key in shape.columns():
            shape.at[key] = len(values)
            values.append(source[key])
        shape.outside_at = None
        if OUTSIDE in source:
            shape.outside_at = len(values)
            values.append(source[OUTSIDE])
        shape.inline_at = {}
        for index, field in enumerate(shape.fields):
            if isinstance(field, LinkTo) and field.same_source:
                shape.inline_at[index] = len(values)
                values.append(self.json.embed(self.link(field, source[field.parent_column], enclosing)))
        return self.json.array(*values)

    def link(self, field: LinkTo, key: Any, enclosing: frozenset[Any]) -> Any:
        """A correlated subquery: the linked row's JSON array, or null when hidden or missing."""
        model = field.node.model
        tables = _tables(model)
        if tables & enclosing:
            raise Unplannable("a table linked within itself")
        columns = self.scoped_columns(model)
        source = {k: _unlabelled(c) for k, c in columns.items()}
        stmt = select(self.row(field.node, source, enclosing | tables)).where(model.id == key)
        condition = self.condition(model)
        if condition is not None:
            stmt = stmt.where(condition)
        return stmt.scalar_subquery()

    def _page_rows(self, shape: ConnectionShape, base: Select[Any]) -> Select[Any]:
        """``base`` (scoped columns of the node's model) as rows ordered by key, one more than the page."""
        model = shape.node.model
        if shape.after is not None:
            base = base.where(model.id > shape.after)
        page = base.order_by(model.id).limit(shape.first + 1).subquery()
        source = {c.key: c for c in page.c}
        row = self.row(shape.node, source, frozenset())
        return select(row.label(ROW), page.c.id.label(KEY)).select_from(page).order_by(page.c.id)

    def _scoped(self, model: type[Any], *extra: Any) -> Select[Any]:
        stmt = select(*self.ctx.scope.columns(model, self.ctx.principal), *extra).select_from(model)
        condition = self.condition(model)
        return stmt if condition is None else stmt.where(condition)

    def _count(self, model: type[Any]) -> Select[Any]:
        condition = self.condition(model)
        if condition is None:
            # Every row: the number kept in its counts table where the table has one.
            kept = city_count(model)
            if kept is not None:
                return kept
        stmt = select(func.count()).select_from(model)
        return stmt if condition is None else stmt.where(condition)

    def root(self, shape: ConnectionShape) -> Select[Any]:
        """[totalCount, [row, …]] of a root list, in one statement."""
        model = shape.node.model
        total: Any = self._count(model).scalar_subquery() if shape.wants_total else None
        rows: Any = None
        if shape.first:
            rows = self.json.embed(self.json.aggregate(self._page_rows(shape, self._scoped(model)), KEY))
        else:
            self.row(shape.node, {k: None for k in self.scoped_columns(model)}, frozenset())
        return select(self.json.array(total, rows))

    def children(self, shape: ConnectionShape) -> Select[Any]:
        """[[[parent, row], …], [[parent, count], …]] of a nested list, for the parents bound as ``KEYS``."""
        model = shape.node.model
        assert shape.parent_column is not None
        parent = getattr(shape.via if shape.via is not None else model, shape.parent_column)
        rows: Any = None
        if shape.first and self.json.postgres:
            rows = self.json.aggregate(self._lateral_pages(shape, parent), PARENT, RANK)
        elif shape.first:
            rank = func.row_number().over(partition_by=parent, order_by=model.id)
            base = self._through(shape, self._scoped(model, parent.label(PARENT), rank.label(RANK)))
            base = base.where(self.json.among(parent))
            if shape.after is not None:
                base = base.where(model.id > shape.after)
            ranked = base.subquery()
            source = {c.key: c for c in ranked.c}
            row = self.json.array(ranked.c[PARENT], self.row(shape.node, source, frozenset()))
            paged = (
                select(row.label(ROW), ranked.c[PARENT], ranked.c[RANK])
                .where(ranked.c[RANK] <= shape.first + 1)
                .order_by(ranked.c[PARENT], ranked.c[RANK])
            )
            rows = self.json.embed(self.json.aggregate(paged, PARENT, RANK))
        else:
            self.row(shape.node, {k: None for k in self.scoped_columns(model)}, frozenset())
        counts: Any = None
        if shape.wants_total:
            # Through a pairing table a row may be paired twice: counted once, as today's resolvers count.
            number = func.count() if shape.via is None else func.count(func.distinct(model.id))
            counted = self._through(
                shape, select(self.json.array(parent, number).label(ROW), parent.label(PARENT)).select_from(model)
            ).where(self.json.among(parent))
            condition = self.condition(model)
            if condition is not None:
                counted = counted.where(condition)
            counts = self.json.embed(self.json.aggregate(counted.group_by(parent).order_by(parent), PARENT))
        return select(self.json.array(rows, counts))

    def _lateral_pages(self, shape: ConnectionShape, parent: Any) -> Select[Any]:
        """PostgreSQL: each parent's page by its own index scan (``LATERAL … LIMIT``), not a window over
        every child of every parent."""
        model = shape.node.model
        keys = (
            func.unnest(bindparam(KEYS, None, type_=ARRAY(parent.type)))
            .table_valued("k")
            .render_derived(name="gw_keys")
        )
        page = self._through(shape, self._scoped(model)).where(parent == keys.c.k)
        if shape.after is not None:
            page = page.where(model.id > shape.after)
        lateral = page.order_by(model.id).limit(shape.first + 1).lateral("gw_page")
        source = {c.key: c for c in lateral.c}
        row = self.json.array(keys.c.k, self.row(shape.node, source, frozenset()))
        return select(row.label(ROW), keys.c.k.label(PARENT), lateral.c.id.label(RANK)).select_from(
            keys.join(lateral, true())
        )

    @staticmethod
    def _through(shape: ConnectionShape, stmt: Select[Any]) -> Select[Any]:
        if shape.via is None:
            return stmt
        model = shape.node.model
        return stmt.join(shape.via, getattr(shape.via, shape.via_key) == model.id)

    def many(self, shape: NodeShape, column: str) -> Select[Any]:
        """[[parent, row], …] of the rows whose ``column`` is one of the keys bound as ``KEYS``, by key."""
        model = shape.model
        parent = getattr(model, column)
        base = self._scoped(model, parent.label(PARENT)).where(self.json.among(parent))
        inner = base.subquery()
        source = {c.key: c for c in inner.c}
        row = self.json.array(inner.c[PARENT], self.row(shape, source, frozenset()))
        rows = select(row.label(ROW), inner.c.id.label(KEY)).order_by(inner.c.id)
        return select(self.json.array(self.json.embed(self.json.aggregate(rows, KEY))))

    def rows_by_key(self, shape: NodeShape) -> Select[Any]:
        """[row, …] of the rows whose key is one of the keys bound as ``KEYS`` (a cross-source link)."""
        model = shape.model
        base = self._scoped(model).where(self.json.among(model.id)).order_by(model.id).subquery()
        source = {c.key: c for c in base.c}
        rows = select(self.row(shape, source, frozenset()).label(ROW), base.c.id.label(KEY)).order_by(base.c.id)
        return select(self.json.array(self.json.embed(self.json.aggregate(rows, KEY))))


def _unlabelled(column: Any) -> Any:
    return getattr(column, "element", column)


def _tables(model: type[Any]) -> frozenset[Any]:
    """The table of ``model`` and those its row filter reads (``__area__`` through parents)."""
    found = {model.__table__}
    spec = getattr(model, "__area__", None)
    while isinstance(spec, tuple):
        parent = spec[1]
        found.add(parent.__table__)
        spec = getattr(parent, "__area__", None)
    return frozenset(found)
