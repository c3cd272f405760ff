"""Relay connections: keyset pages forward (``first``/``after``) or backward (``last``/``before``)
in a stable order (an ``orderBy`` key, ties by primary key; by primary key alone by default), ``totalCount``.

Root lists page with one query; nested lists page every parent at once with a window
function, so a page of 5 parents and a page of 100 cost the same number of statements.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from gateway.data.ids import decode_cursor, encode_cursor
from gateway.data.reads import ColumnLike, count, counting, execute, fetch_all, scoped
from gateway.kernel import BadUserInput, Context

T = TypeVar("T")
Row = Any
PARENT, RANK = "gw_parent", "gw_rank"


First = Annotated[int | None, strawberry.argument(description="本页条数 / page size, from the start")]
After = Annotated[str | None, strawberry.argument(description="从此游标之后 / return items after this cursor")]
Last = Annotated[
    int | None, strawberry.argument(description="末尾条数 / page size, from the end (backward paging; not with first)")
]
Before = Annotated[str | None, strawberry.argument(description="在此游标之前 / return items before this cursor")]
OrderArg = strawberry.argument(description="排序(一个键,同值按标识) / order: one key, ties broken by ID")


@strawberry.enum(description="排序方向 / sort direction")
class SortDirection(enum.Enum):
    ASC = strawberry.enum_value("asc", description="升序 / ascending (oldest, A→Z first)")
    DESC = strawberry.enum_value("desc", description="降序 / descending (newest, Z→A first)")


@dataclass(frozen=True)
class Ordering:
    """A sort by one column of the listed table (``None``: by ID only), ties broken by ID the same way."""

    column: str | None = None
    descending: bool = False

    @property
    def tag(self) -> str:
        """Names the ordering inside a cursor, so a cursor of one ordering is refused under another."""
        return f"{self.column or 'id'}:{'desc' if self.descending else 'asc'}"

    @classmethod
    def of(cls, order_by: object | None) -> Ordering:
        """The ordering an order input asks for (one key at most); by ID ascending when none."""
        if order_by is None:
            return cls()
        chosen = [
            (f.python_name, v) for f in _fields_of(order_by) if (v := getattr(order_by, f.python_name)) is not None
        ]
        if len(chosen) > 1:
            raise BadUserInput("orderBy takes one key (ties are broken by ID)", argument="orderBy")
        if not chosen:
            return cls()
        name, direction = chosen[0]
        return cls(None if name == "id" else name, direction == SortDirection.DESC)

    def keys(self, model: type[Any]) -> list[ColumnLike]:
        columns: list[ColumnLike] = [] if self.column is None else [getattr(model, self.column)]
        return [*columns, model.id]

    def sorted(self, model: type[Any], backward: bool) -> list[Any]:
        """ORDER BY terms; ``backward`` reads the same order from its end (the page is reversed after)."""
        descending = self.descending != backward
        return [key.desc() if descending else key.asc() for key in self.keys(model)]

    def beyond(self, model: type[Any], ctx: Context, pk: int, later: bool) -> ColumnElement[bool]:
        """Rows after (``later``) or before the row ``pk`` in this ordering.

        The cursor holds only the row's ID; its sort value is read here, through the reader's row
        scope, so a cursor carries no value and a forged one naming a hidden row finds nothing.
        """
        key: ColumnElement[Any] = model.id
        if self.column is None:
            return key > pk if later != self.descending else key < pk
        column = getattr(model, self.column)
        boundary = scoped(select(column).where(model.id == pk), model, ctx).scalar_subquery().correlate(None)
        if later != self.descending:
            return or_(column > boundary, and_(column == boundary, model.id > pk))
        return or_(column < boundary, and_(column == boundary, model.id < pk))


def _fields_of(order_by: object) -> list[Any]:
    return list(order_by.__strawberry_definition__.fields)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PageArgs:
    """One page: ``first`` rows (the page size, whichever end it counts from) after ``after`` and
    before ``before`` (primary keys of the cursor rows), from the end when ``backward``."""

    first: int
    after: int | None
    before: int | None = None
    backward: bool = False
    ordering: Ordering = Ordering()

    @classmethod
    def parse(
        cls,
        ctx: Context,
        first: int | None,
        after: str | None,
        last: int | None = None,
        before: str | None = None,
        order_by: object | None = None,
    ) -> PageArgs:
        if first is not None and last is not None:
            raise BadUserInput(
                "Pass first or last, not both (Relay: first pages forward, last backward)", argument="last"
            )
        limit = ctx.settings.max_page_size
        backward = last is not None
        size = last if backward else first
        name = "last" if backward else "first"
        if size is None:
            size = min(ctx.settings.default_page_size, limit)
        if size < 0 or size > limit:
            raise BadUserInput(f"{name} must be between 0 and {limit}, got {size}", argument=name)
        ordering = Ordering.of(order_by)
        return cls(
            first=size,
            after=_cursor(after, ordering, "after"),
            before=_cursor(before, ordering, "before"),
            backward=backward,
            ordering=ordering,
        )

    def bounded(self, stmt: Select[Any], model: type[Any], ctx: Context) -> Select[Any]:
        """``stmt`` narrowed to the rows between the cursors."""
        if self.after is not None:
            stmt = stmt.where(self.ordering.beyond(model, ctx, self.after, later=True))
        if self.before is not None:
            stmt = stmt.where(self.ordering.beyond(model, ctx, self.before, later=False))
        return stmt

    def cursor(self, pk: int) -> str:
        return encode_cursor(pk, self.ordering.tag if self.ordering != Ordering() else None)


def _cursor(text: str | None, ordering: Ordering, argument: str) -> int | None:
    if text is None:
        return None
    tag = ordering.tag if ordering != Ordering() else None
    return decode_cursor(text, tag, argument)


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
    """Turn up to ``first + 1`` rows, read in page order, into a connection (the extra row only says
    more follow). A backward page was read from its end: it is reversed here."""
    shown = list(rows[: page.first])
    more = len(rows) > page.first
    if page.backward:
        shown.reverse()
    edges = [Edge(cursor=page.cursor(row.id), node=convert(row)) for row in shown]
    # Relay: the far side of a page is known (more rows); the near side only from the cursor passed.
    info = PageInfo(
        has_next_page=page.before is not None if page.backward else more,
        has_previous_page=more if page.backward else page.after is not None,
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
    paged = page.bounded(stmt, model, ctx).order_by(*page.ordering.sorted(model, page.backward))
    paged = paged.limit(page.first + 1)
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
        stmt = self.page.bounded(self.base.where(self.key.in_(list(keys))), self.model, self.ctx)
        order = self.page.ordering.sorted(self.model, self.page.backward)
        rank = func.row_number().over(partition_by=self.key, order_by=order)
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
        async with self.ctx.databases.read_session(str(self.model.__domain__)) as session:
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
