"""Tasks read from the records they are about, as the principal: one scoped query per kind,
in the principal's own grids, merged in urgency order."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from functools import cache
from typing import Any

import strawberry
from sqlalchemy import Select, and_, or_, select

from gateway.data import Connection, Edge, PageArgs, PageInfo, count, encode_id, fetch_rows
from gateway.kernel import Context, graphql_name
from resolvers.tasks import cursor
from resolvers.tasks.cursor import Position
from resolvers.tasks.kinds import Kind, kinds_of
from resolvers.tasks.types import Task

SINCE = "gw_since"
Row = Any


def pending(ctx: Context, kind: Kind) -> Select[Any] | None:
    """The caller's pending records of ``kind`` in its own grids; None when it can have none."""
    grids = ctx.principal.area.grid_ids
    condition = kind.pending(ctx.principal)
    if grids is None or condition is None:
        return None
    source = kind.source
    model = source.model
    shown = [getattr(model, c) for c in (source.code, source.category[0] if source.category else None) if c]
    columns = (model.id, getattr(model, source.since).label(SINCE), model.grid_id, *shown)
    return select(*columns).where(condition, model.grid_id.in_(sorted(grids)))


@cache
def _names(enum: type[Enum]) -> dict[str, tuple[str, str]]:
    """Enum value → (中文, English), from the value's ``中文 / English`` description."""
    names: dict[str, tuple[str, str]] = {}
    for value in enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        zh, _, en = str(value.description).partition(" / ")
        names[value.value] = (zh, en or zh)
    return names


def _title(ctx: Context, kind: Kind, row: Row) -> str:
    """The kind's label with the case number and category, where the caller may read them unmasked."""
    source = kind.source

    def readable(column: str) -> bool:
        return ctx.policy is None or ctx.policy.access(source.type_name, graphql_name(column)) == "allowed"

    zh, en = kind.label
    if source.code and readable(source.code):
        code = getattr(row, source.code)
        zh, en = f"{zh} {code}", f"{en} {code}"
    if source.category and readable(source.category[0]):
        names = _names(source.category[1]).get(getattr(row, source.category[0]))
        if names is not None:
            zh, en = f"{zh}({names[0]})", f"{en} ({names[1]})"
    return f"{zh} / {en}"


def _task(ctx: Context, kind: Kind, row: Row) -> tuple[Position, Task]:
    position = Position(kind.urgency, cursor.utc(getattr(row, SINCE)), row.id)
    task = Task(
        id=strawberry.ID(f"{kind.source.type_name}:{row.id}:{kind.action}"),
        kind=kind.kind,
        urgency=kind.urgency,
        title=_title(ctx, kind, row),
        subject_id=strawberry.ID(encode_id(kind.source.type_name, row.id)),
        created_at=position.since,
        grid_id=row.grid_id,
    )
    return position, task


async def _after(ctx: Context, kind: Kind, stmt: Select[Any], after: Position | None, limit: int) -> list[Row]:
    """Up to ``limit`` records of one kind that sort after ``after``, oldest first."""
    model = kind.source.model
    since = getattr(model, kind.source.since)
    if after is not None and after.urgency < kind.urgency:
        return []
    if after is not None and after.urgency == kind.urgency:
        stmt = stmt.where(or_(since > after.since, and_(since == after.since, model.id > after.pk)))
    return list(await fetch_rows(ctx, model, stmt.order_by(since, model.id).limit(limit)))


async def page_of_tasks(ctx: Context, first: int | None, after: str | None) -> Connection[Task]:
    size = PageArgs.parse(ctx, first, None).first
    start = None if after is None else cursor.decode(after)
    sources = [(kind, stmt) for kind in kinds_of(ctx) if (stmt := pending(ctx, kind)) is not None]
    found: list[tuple[Position, Task]] = []
    if size:
        for kind, stmt in sources:
            found += [_task(ctx, kind, row) for row in await _after(ctx, kind, stmt, start, size + 1)]
    found.sort(key=lambda item: item[0].key)
    edges = [Edge(cursor=cursor.encode(position), node=task) for position, task in found[:size]]
    info = PageInfo(
        has_next_page=len(found) > size,
        has_previous_page=start is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )

    async def total() -> int:
        return sum([await count(ctx, kind.source.model, stmt) for kind, stmt in sources])

    return Connection(edges=edges, page_info=info, _total=total)


async def task_for(ctx: Context, kinds: Sequence[Kind], pk: int) -> Task | None:
    """The caller's task about one record, if that record is pending for it as one of ``kinds``."""
    for kind in kinds:
        stmt = pending(ctx, kind)
        if stmt is None:
            continue
        model = kind.source.model
        rows = await fetch_rows(ctx, model, stmt.where(model.id == pk))
        if rows:
            return _task(ctx, kind, rows[0])[1]
    return None


async def visible(ctx: Context, model: type[Any], pk: int) -> bool:
    return bool(await fetch_rows(ctx, model, select(model.id).where(model.id == pk)))
