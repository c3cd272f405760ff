"""Tasks read from the records they are about, as the principal: one scoped select per kind, in
the principal's own grids, merged in urgency order. The kinds whose records share a database are
read in one statement (a ``UNION ALL`` of their pages) and counted in one, so a task list costs
two statements per database, not two per kind. Those statements are built and compiled once per
principal, policy and page (``_planned``), and run on the driver itself where it can."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, reduce
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, String, and_, cast, false, literal, null, or_, select, true, union_all
from sqlalchemy.orm import InstrumentedAttribute

from gateway.data import (
    Connection,
    Edge,
    PageArgs,
    PageInfo,
    Ready,
    SortDirection,
    counting,
    domain_of,
    encode_id,
    fetch_rows,
    scoped,
)
from gateway.kernel import BadUserInput, Context, graphql_name
from gateway.policy import Policy
from gateway.schema import TESTS
from resolvers.tasks import cursor
from resolvers.tasks.cursor import Position
from resolvers.tasks.kinds import Kind, kinds_of
from resolvers.tasks.types import Task

SINCE, KIND, URGENCY, CODE, CATEGORY = "gw_since", "gw_kind", "gw_urgency", "gw_code", "gw_category"
Row = Mapping[str, Any]


def pending(ctx: Context, kind: Kind) -> Select[Any] | None:
    """The caller's pending records of ``kind`` in its own grids; None when it can have none."""
    grids = ctx.principal.area.grid_ids
    condition = kind.pending(ctx.principal)
    if grids is None or condition is None:
        return None
    source = kind.source
    model = source.model
    # The same columns for every kind, so that the kinds of one database read in one UNION ALL.
    code, category = source.code, source.category[0] if source.category else None
    columns = (
        model.id.label("id"),
        getattr(model, source.since).label(SINCE),
        model.grid_id.label("grid_id"),
        (getattr(model, code) if code else cast(null(), String)).label(CODE),
        (getattr(model, category) if category else cast(null(), String)).label(CATEGORY),
    )
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
        code = row[CODE]
        zh, en = f"{zh} {code}", f"{en} {code}"
    if source.category and readable(source.category[0]):
        names = _names(source.category[1]).get(row[CATEGORY])
        if names is not None:
            zh, en = f"{zh}({names[0]})", f"{en} ({names[1]})"
    return f"{zh} / {en}"


def _task(ctx: Context, kind: Kind, row: Row) -> tuple[Position, Task]:
    """The task of one pending record (``row``: column name → value)."""
    position = Position(kind.urgency, cursor.utc(row[SINCE]), row["id"])
    task = Task(
        id=strawberry.ID(f"{kind.source.type_name}:{row['id']}:{kind.action}"),
        kind=kind.kind,
        urgency=kind.urgency,
        title=_title(ctx, kind, row),
        subject_id=strawberry.ID(encode_id(kind.source.type_name, row["id"])),
        created_at=position.since,
        grid_id=row["grid_id"],
    )
    return position, task


@strawberry.input(description="待办排序 / order of tasks (DESC reverses the whole order)")
class TaskOrder:
    urgency: SortDirection | None = strawberry.field(
        default=None,
        description="急者在前,先到先办(默认) / most urgent first, then oldest (the default: DESC)",
        metadata={TESTS: []},
    )
    created_at: SortDirection | None = strawberry.field(
        default=None, description="按产生时间 / by the time the work arose (DESC = newest first)", metadata={TESTS: []}
    )


@dataclass(frozen=True)
class _Order:
    by_time: bool = False
    reverse: bool = False

    @classmethod
    def of(cls, order_by: TaskOrder | None) -> _Order:
        if order_by is None:
            return cls()
        if order_by.urgency is not None and order_by.created_at is not None:
            raise BadUserInput("orderBy takes one key", argument="orderBy")
        if order_by.created_at is not None:
            return cls(by_time=True, reverse=order_by.created_at == SortDirection.DESC)
        return cls(reverse=order_by.urgency == SortDirection.ASC)

    @property
    def tag(self) -> str:
        return ("-time" if self.by_time else "") + ("-rev" if self.reverse else "")


def _beyond(parts: Sequence[tuple[Any, Any]], later: bool) -> ColumnElement[bool]:
    """Rows whose key (SQL columns or this kind's constants) sorts after (``later``) or before the bound,
    compared part by part as tuples are."""
    (value, bound), rest = parts[0], parts[1:]
    if not isinstance(value, ColumnElement | InstrumentedAttribute):
        if value == bound:
            return _beyond(rest, later) if rest else false()
        return true() if (value > bound) == later else false()
    beyond: ColumnElement[bool] = value > bound if later else value < bound
    if not rest:
        return beyond
    return or_(beyond, and_(value == bound, _beyond(rest, later)))


def _parts(kind: Kind, order: _Order, position: Position) -> list[tuple[Any, Any]]:
    model = kind.source.model
    since = getattr(model, kind.source.since)
    urgency = (-kind.urgency, -position.urgency)
    rest = [(since, position.since)] if not order.by_time else []
    head = [(since, position.since)] if order.by_time else []
    return [*head, urgency, *rest, (model.id, position.pk)]


def _page_of_kind(
    ctx: Context,
    index: int,
    kind: Kind,
    stmt: Select[Any],
    page: PageArgs,
    bounds: tuple[Position | None, Position | None],
    order: _Order,
) -> Select[Any]:
    """Up to ``first + 1`` records of one kind between the bounds, in page order (from the end when
    backward), scoped, tagged with the kind's place in ``sources``."""
    model = kind.source.model
    after, before = bounds
    if after is not None:
        stmt = stmt.where(_beyond(_parts(kind, order, after), later=not order.reverse))
    if before is not None:
        stmt = stmt.where(_beyond(_parts(kind, order, before), later=order.reverse))
    since = getattr(model, kind.source.since)
    descending = order.reverse != page.backward
    keys = [since.desc(), model.id.desc()] if descending else [since.asc(), model.id.asc()]
    paged = scoped(stmt, model, ctx).add_columns(literal(index).label(KIND), literal(kind.urgency).label(URGENCY))
    return paged.order_by(*keys).limit(page.first + 1)


def _by_database(ctx: Context, sources: list[tuple[Kind, Select[Any]]]) -> list[list[int]]:
    """The places in ``sources`` of the kinds whose records live in each database."""
    groups: dict[int, list[int]] = {}
    for index, (kind, _) in enumerate(sources):
        groups.setdefault(id(ctx.databases.engine(domain_of(kind.source.model))), []).append(index)
    return list(groups.values())


def _rows(pages: list[Select[Any]], page: PageArgs, order: _Order) -> Select[Any]:
    """The first ``first + 1`` rows of several kinds' pages of one database, in page order, in one
    statement: the kinds' pages merged in the database, so that only a page's worth comes back."""
    if len(pages) == 1:
        return pages[0]
    merged = union_all(*(select(part.subquery()) for part in pages)).subquery()
    since, urgency, pk = merged.c[SINCE], merged.c[URGENCY], merged.c.id
    # As Position.key_by sorts: most urgent first, then oldest, then lowest id (or time first).
    keys = (
        [(since, True), (urgency, False), (pk, True)]
        if order.by_time
        else [(urgency, False), (since, True), (pk, True)]
    )
    flip = order.reverse != page.backward
    return (
        select(merged)
        .order_by(*(column.asc() if ascending != flip else column.desc() for column, ascending in keys))
        .limit(page.first + 1)
    )


def _total(ctx: Context, sources: list[tuple[Kind, Select[Any]]], group: list[int]) -> Select[Any]:
    """How many pending records the kinds of one database hold, in one statement."""
    counts = []
    for index in group:
        kind, stmt = sources[index]
        model = kind.source.model
        counted = scoped(stmt, model, ctx)
        counts.append(
            counted.with_only_columns(counting(counted, model), maintain_column_froms=True)
            .order_by(None)
            .scalar_subquery()
        )
    return select(reduce(operator.add, counts))


@dataclass(frozen=True)
class _Group:
    """The kinds whose records share a database: their page read in one statement (none for a page of
    none), their pending records counted in another."""

    domain: str
    page: Ready | None
    total: Ready


@dataclass(frozen=True)
class _Plan:
    policy: Policy | None
    kinds: tuple[Kind, ...]
    groups: tuple[_Group, ...]


def _plan(ctx: Context, page: PageArgs, bounds: tuple[Position | None, Position | None], order: _Order) -> _Plan:
    sources = [(kind, stmt) for kind in kinds_of(ctx) if (stmt := pending(ctx, kind)) is not None]
    groups = []
    for group in _by_database(ctx, sources):
        domain = domain_of(sources[group[0]][0].source.model)
        pages = [_page_of_kind(ctx, i, *sources[i], page, bounds, order) for i in group] if page.first else []
        read = ctx.databases.ready(domain, _rows(pages, page, order)) if pages else None
        groups.append(_Group(domain, read, ctx.databases.ready(domain, _total(ctx, sources, group))))
    return _Plan(ctx.policy, tuple(kind for kind, _ in sources), tuple(groups))


def _planned(ctx: Context, page: PageArgs, bounds: tuple[Position | None, Position | None], order: _Order) -> _Plan:
    """The statements of this page for this principal, built and compiled once: everything they depend
    on is in the key (the principal with its area, role and staff row; the page and its bounds) or
    checked (the policy, replaced when policies reload)."""
    key = (_Plan, ctx.principal, page.first, page.backward, bounds, order)
    found = ctx.plans.get(key)
    if isinstance(found, _Plan) and found.policy is ctx.policy:
        return found
    return ctx.plans.put(key, _plan(ctx, page, bounds, order))  # type: ignore[no-any-return]


async def page_of_tasks(
    ctx: Context,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    order_by: TaskOrder | None = None,
) -> Connection[Task]:
    order = _Order.of(order_by)
    page = PageArgs.parse(ctx, first, None, last)
    size = page.first
    start = None if after is None else cursor.decode(after, order.tag, "after")
    end = None if before is None else cursor.decode(before, order.tag, "before")
    plan = _planned(ctx, page, (start, end), order)
    found: list[tuple[Position, Task]] = []
    for group in plan.groups:
        if group.page is not None:
            rows = await ctx.databases.rows(group.domain, group.page)
            found += [_task(ctx, plan.kinds[row[KIND]], row) for row in rows]
    found.sort(key=lambda item: item[0].key_by(order.by_time), reverse=order.reverse != page.backward)
    shown = found[:size]
    if page.backward:
        shown.reverse()
    edges = [Edge(cursor=cursor.encode(position, order.tag), node=task) for position, task in shown]
    more = len(found) > size
    info = PageInfo(
        has_next_page=end is not None if page.backward else more,
        has_previous_page=more if page.backward else start is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )

    async def total() -> int:
        return sum([int(await ctx.databases.value(group.domain, group.total)) for group in plan.groups])

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
            return _task(ctx, kind, rows[0]._mapping)[1]
    return None


async def visible(ctx: Context, model: type[Any], pk: int) -> bool:
    return bool(await fetch_rows(ctx, model, select(model.id).where(model.id == pk)))
