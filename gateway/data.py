"""The one way resolvers read rows: as a principal, through the row scope.

Every select of every domain passes through :func:`scoped`, which is where the
principal's row filter (the context's :class:`~gateway.scope.RowScope`) joins the WHERE clause.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute

from gateway.context import Context

M = TypeVar("M")


def scoped(stmt: Select[Any], model: type[Any], ctx: Context) -> Select[Any]:
    condition = ctx.scope.condition(model, ctx.principal)
    return stmt if condition is None else stmt.where(condition)


def domain_of(model: type[Any]) -> str:
    return str(model.__domain__)


async def fetch_all(ctx: Context, model: type[M], stmt: Select[Any] | None = None) -> Sequence[M]:
    stmt = scoped(select(model) if stmt is None else stmt, model, ctx)
    async with ctx.databases.session(domain_of(model)) as session:
        return list((await session.scalars(stmt)).all())


async def fetch_one(ctx: Context, model: type[M], pk: int) -> M | None:
    stmt = scoped(select(model).where(model.id == pk), model, ctx)  # type: ignore[attr-defined]
    async with ctx.databases.session(domain_of(model)) as session:
        return (await session.scalars(stmt)).first()


async def count(ctx: Context, model: type[Any], stmt: Select[Any]) -> int:
    stmt = scoped(stmt, model, ctx)
    counted = stmt.with_only_columns(func.count(func.distinct(model.id))).order_by(None)
    async with ctx.databases.session(domain_of(model)) as session:
        return int((await session.execute(counted)).scalar_one())


async def fetch_rows(ctx: Context, model: type[Any], stmt: Select[Any]) -> Sequence[Any]:
    """Rows (not entities) of a scoped statement, for grouped and windowed queries."""
    stmt = scoped(stmt, model, ctx)
    async with ctx.databases.session(domain_of(model)) as session:
        return list((await session.execute(stmt)).all())


# A column as resolvers name it: a mapped attribute (``Resident.grid_id``) or any SQL expression.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]
