"""Relay connections: ``first``/``after`` keyset pages in a stable order (primary key), ``totalCount``.

Root lists page with one query; nested lists page every parent at once with a window
function, so a page of 5 parents and a page of 100 cost the same number of statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import Select, func, select

from gateway.data.ids import decode_cursor, encode_cursor
from gateway.data.reads import ColumnLike, count, counting, execute, fetch_all, scoped
from gateway.kernel import BadUserInput, Context

T = TypeVar("T")
Row = Any
PARENT, RANK = "gw_parent", "gw_rank"


First = Annotated[int | None, strawberry.argument(description="本页条数 / page size")]
After = Annotated[str | None, strawberry.argument(description="从此游标之后 / return items after this cursor")]


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: int | None

    @classmethod
    def parse(cls, ctx: Context, first: int | None, after: str | None) -> PageArgs:
        limit = ctx.settings.max_page_size
        if first is None:
            first = min(ctx.settings.default_page_size, limit)
        if first < 0 or first > limit:
            raise BadUserInput(f"first must be between 0 and {limit}, got {first}", argument="first")
        return cls(first=first, after=decode_cursor(after) if after else None)


@strawberry.type(description="分页信息 / information about a page of results")
class PageInfo:
    has_next_page: bool = strawberry.field(description="是否还有下一页 / whether more items follow")
    has_previous_page: bool = strawberry.field(description="是否有上一页 / whether items precede this page")
    start_cursor: str | None = strawberry.field(description="首项游标 / cursor of the first item")
    end_cursor: str | None = strawberry.field(description="末项游标 / cursor of the last item")


@strawberry.type(description="连接中的一项 / one item of a connection")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="游标 / opaque cursor of this item")
    node: T = strawberry.field(description="节点 / the item")


@strawberry.type(description="分页列表 / a page of items (Relay connection)")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="本页各项 / the items of this page with cursors")
    page_info: PageInfo = strawberry.field(description="分页信息 / page information")
    _total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="本页各项(无游标) / the items of this page, without cursors")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="符合条件的总数 / number of items matching the filters, across all pages")
    async def total_count(self) -> int:
        return await self._total()


def within_limit(ctx: Context, model: type[Any], page: PageArgs) -> None:
    """Refuse a page larger than the principal's policy allows for this type."""
    limit = ctx.scope.page_limit(model)
    if limit is not None and page.first > limit:
        raise BadUserInput(
            f"first may not exceed {limit} for your role on this list, got {page.first}", argument="first"
        )


def build_connection(
    rows: Sequence[Row],
    page: PageArgs,
    convert: Callable[[Row], T],
    total: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """Turn up to ``first + 1`` ordered rows into a connection (the extra row only says more follow)."""
    shown = rows[: page.first]
    edges = [Edge(cursor=encode_cursor(row.id), node=convert(row)) for row in shown]
    info = PageInfo(
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, _total=total)


async def root_page(
    ctx: Context,
    model: type[Any],
    stmt: Select[Any],
    page: PageArgs,
    convert: Callable[[Row], T],
) -> Connection[T]:
    """One page of a root list; ``stmt`` selects ``model`` with the caller's filters."""
    within_limit(ctx, model, page)
    paged = stmt.order_by(model.id).limit(page.first + 1)
    if page.after is not None:
        paged = paged.where(model.id > page.after)
    rows = await fetch_all(ctx, model, paged) if page.first else []

    async def total() -> int:
        return await count(ctx, model, stmt)

    return build_connection(rows, page, convert, total)


class _NestedPages(DataLoader[Hashable, list[Row]]):
    """Pages of children for many parents in one windowed query."""

    def __init__(self, ctx: Context, model: type[Any], key: ColumnLike, base: Select[Any], page: PageArgs):
        super().__init__()
        self.ctx, self.model, self.key, self.base, self.page = ctx, model, key, base, page

    async def batch_load_fn(self, keys: Sequence[Hashable]) -> list[list[Row]]:
        stmt = self.base.where(self.key.in_(list(keys)))
        if self.page.after is not None:
            stmt = stmt.where(self.model.id > self.page.after)
        rank = func.row_number().over(partition_by=self.key, order_by=self.model.id)
        columns = self.ctx.scope.columns(self.model, self.ctx.principal)
        inner = stmt.with_only_columns(*columns, self.key.label(PARENT), rank.label(RANK)).subquery()
        windowed = select(*inner.c).where(inner.c[RANK] <= self.page.first + 1).order_by(inner.c[PARENT], inner.c[RANK])
        grouped: dict[Hashable, list[Row]] = {k: [] for k in keys}
        for row in await execute(self.ctx, self.model, windowed):
            grouped[getattr(row, PARENT)].append(row)
        return [grouped[k] for k in keys]


class _NestedCounts(DataLoader[Hashable, int]):
    def __init__(self, ctx: Context, model: type[Any], key: ColumnLike, base: Select[Any]):
        super().__init__()
        self.ctx, self.model, self.key, self.base = ctx, model, key, base

    async def batch_load_fn(self, keys: Sequence[Hashable]) -> list[int]:
        stmt = (
            self.base.where(self.key.in_(list(keys)))
            .with_only_columns(self.key, counting(self.base, self.model), maintain_column_froms=True)
            .group_by(self.key)
            .order_by(None)
        )
        async with self.ctx.databases.session(str(self.model.__domain__)) as session:
            counts = {parent: n for parent, n in (await session.execute(stmt)).all()}
        return [int(counts.get(k, 0)) for k in keys]


async def nested_page(
    ctx: Context,
    model: type[Any],
    key: ColumnLike,
    parent: Hashable,
    page: PageArgs,
    convert: Callable[[Row], T],
    base: Select[Any] | None = None,
    name: Hashable = None,
) -> Connection[T]:
    """The page of ``model`` rows whose ``key`` equals ``parent``, batched with its siblings.

    ``name`` identifies ``base`` (extra filters or joins) in the per-request loader cache.
    """
    within_limit(ctx, model, page)
    # The row scope joins the base statement once, so pages and counts share it.
    stmt = scoped(select(model) if base is None else base, model, ctx)
    pages = ctx.loader(
        ("nested-page", model, str(key), name, page),
        lambda: _NestedPages(ctx, model, key, stmt, page),
    )
    counts = ctx.loader(("nested-count", model, str(key), name), lambda: _NestedCounts(ctx, model, key, stmt))
    rows = await pages.load(parent) if page.first else []

    async def total() -> int:
        return int(await counts.load(parent))

    return build_connection(rows, page, convert, total)
