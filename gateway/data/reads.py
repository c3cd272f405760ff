"""The one way resolvers read rows: as a principal, through the row scope.

Every select of every domain passes through :func:`scoped` (the principal's row filter joins
the WHERE clause) and :func:`as_read` (the SELECT list becomes the columns the principal may
read, masked in SQL). Results are plain rows: attribute access by column name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute

from gateway.data.counts import city_count
from gateway.kernel import Context

# A column as resolvers name it: a mapped attribute (``Resident.grid_id``) or any SQL expression.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
Row = Any


def scoped(stmt: Select[Any], model: type[Any], ctx: Context) -> Select[Any]:
    condition = ctx.scope.condition(model, ctx.principal)
    return stmt if condition is None else stmt.where(condition)


def as_read(stmt: Select[Any], model: type[Any], ctx: Context, *extra: ColumnElement[Any]) -> Select[Any]:
    """``stmt`` (a select of ``model`` with its filters) reading the principal's columns, scoped."""
    return scoped(stmt, model, ctx).with_only_columns(*ctx.scope.columns(model, ctx.principal), *extra)


def domain_of(model: type[Any]) -> str:
    return str(model.__domain__)


async def execute(ctx: Context, model: type[Any], stmt: Select[Any]) -> Sequence[Row]:
    async with ctx.databases.read_session(domain_of(model)) as session:
        return list((await session.execute(stmt)).all())


async def fetch_all(ctx: Context, model: type[Any], stmt: Select[Any] | None = None) -> Sequence[Row]:
    return await execute(ctx, model, as_read(select(model) if stmt is None else stmt, model, ctx))


def counting(stmt: Select[Any], model: type[Any]) -> ColumnElement[int]:
    """``count(*)`` over the rows of ``model`` the statement reads; ``count(distinct id)`` only where a
    join may read a row twice (a distinct count is what makes a count slow at city scale)."""
    if _reads_only(stmt, model.__table__):
        return func.count()
    return func.count(func.distinct(model.id))


def _reads_only(stmt: Select[Any], table: Any) -> bool:
    """Whether ``table`` is all the statement's FROM holds, seen from its parts: ``get_final_froms()``
    says the same by compiling the statement, which cost more than the count on a busy page."""
    if stmt._setup_joins:
        return False
    froms = [*stmt._from_obj, *stmt.columns_clause_froms]
    if stmt.whereclause is not None:
        froms.extend(stmt.whereclause._from_objects)
    return bool(froms) and all(found._deannotate() is table for found in froms)


def _every_row(stmt: Select[Any], model: type[Any]) -> bool:
    """Whether ``stmt`` reads every row of ``model``'s table: no condition, grouping, limit or join."""
    plain = stmt.whereclause is None and stmt._having_criteria == () and stmt._group_by_clauses == ()
    unbounded = stmt._limit_clause is None and stmt._offset_clause is None and not stmt._distinct
    return plain and unbounded and _reads_only(stmt, model.__table__)


async def count(ctx: Context, model: type[Any], stmt: Select[Any]) -> int:
    counted = scoped(stmt, model, ctx)
    kept = city_count(model) if _every_row(counted, model) else None
    if kept is not None:
        # Every row of the table: the number its counts table keeps (gateway.data.counts).
        counted = kept
    else:
        # The FROM stays the statement's own: count(*) names no table to take it from.
        counted = counted.with_only_columns(counting(counted, model), maintain_column_froms=True).order_by(None)
    async with ctx.databases.read_session(domain_of(model)) as session:
        return int((await session.execute(counted)).scalar_one())


async def fetch_rows(ctx: Context, model: type[Any], stmt: Select[Any]) -> Sequence[Row]:
    """Rows of a scoped statement that selects its own columns (ids, groups, counts)."""
    return await execute(ctx, model, scoped(stmt, model, ctx))
