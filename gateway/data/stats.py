"""Statistics: counts grouped by a column, as the principal's row scope allows, never the rows.

Small counts are suppressed for a principal that may count rows but not read, in clear, the
attribute they are grouped by (e.g. counts by age band for a role that may not see ages): a
bucket below ``GATEWAY_MIN_GROUP_SIZE`` is null and its path is listed in
``extensions.suppressed``. When exactly one bucket of a statistic would be suppressed, the next
smallest goes too, so that the total cannot give it away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import Select, String, cast, func, literal, select, tuple_, union_all

from gateway.data.reads import ColumnLike, domain_of, execute, scoped
from gateway.kernel import Context, Info


@strawberry.type(description="分组计数 / one group of a statistic and its count")
class Bucket:
    key: str = strawberry.field(description="分组 / group")
    value: strawberry.Private[int]
    hidden: strawberry.Private[bool] = False

    @strawberry.field(description="数量(过小不显示,为空) / count; null when too small to be shown")
    def count(self, info: Info) -> int | None:
        if self.hidden:
            note_suppressed(info)
            return None
        return self.value


def note_suppressed(info: Info, *more: str) -> None:
    path = ".".join([*(str(p) for p in info.path.as_list()), *more])
    info.context.extensions.setdefault("suppressed", []).append(path)


def guarded(ctx: Context, attribute: str) -> int | None:
    """The smallest group this principal may be shown, when counts by ``attribute`` are guarded."""
    policy = ctx.policy
    if policy is None or not policy.enforce:
        return None
    type_name, _, field_name = attribute.partition(".")
    if field_name and policy.access(type_name, field_name) == "allowed":
        return None
    rule = policy.rule(type_name)
    if not field_name and rule is not None and (rule.fields is None or rule.fields - {"id"} or rule.masked):
        return None  # a total of rows the principal may list
    return ctx.settings.min_group_size


@dataclass(frozen=True)
class Dimension:
    """One way a statistic groups its rows: by ``column``, showing the attribute ``Type.field``, each
    value labelled (and equal labels merged) by ``label``."""

    column: ColumnLike
    attribute: str
    label: Callable[[Any], str] = str


DIMENSION, VALUE, COUNT = "gw_dimension", "gw_value", "gw_count"


async def grouped(ctx: Context, model: type[Any], stmt: Select[Any], *dimensions: Dimension) -> list[list[Bucket]]:
    """For each dimension, counts of ``stmt``'s rows per value of its column, small ones suppressed where
    ``guarded`` says so; all the dimensions in one statement."""
    if len(dimensions) > 1 and ctx.databases.engine(domain_of(model)).dialect.name == "postgresql":
        statement, read = _one_scan(ctx, model, stmt, dimensions), _of_one_scan
    else:
        statement, read = _one_branch_each(ctx, model, stmt, dimensions), _of_branches
    merged: list[dict[str, int]] = [{} for _ in dimensions]
    for index, value, n in read(await execute(ctx, model, statement)):
        counts = merged[index]
        key = dimensions[index].label(value)
        counts[key] = counts.get(key, 0) + n
    found = []
    for dimension, counts in zip(dimensions, merged, strict=True):
        buckets = [Bucket(key=k, value=n) for k, n in sorted(counts.items())]
        smallest = guarded(ctx, dimension.attribute)
        if smallest is not None:
            _suppress(buckets, smallest)
        found.append(buckets)
    return found


def _one_branch_each(ctx: Context, model: type[Any], stmt: Select[Any], dimensions: Sequence[Dimension]) -> Select[Any]:
    """A ``UNION ALL`` of one grouping per dimension (any database): rows (dimension, value, count)."""
    branches: list[Select[Any]] = []
    for index, dimension in enumerate(dimensions):
        counted: Any = stmt.with_only_columns(
            literal(index).label(DIMENSION),
            cast(dimension.column, String).label(VALUE),
            func.count(model.id).label(COUNT),
        )
        branches.append(scoped(counted.group_by(dimension.column).order_by(None), model, ctx))
    return branches[0] if len(branches) == 1 else select(union_all(*branches).subquery())


def _of_branches(rows: Sequence[Any]) -> Iterator[tuple[int, Any, int]]:
    for index, value, n in rows:
        yield int(index), value, int(n)


def _one_scan(ctx: Context, model: type[Any], stmt: Select[Any], dimensions: Sequence[Dimension]) -> Select[Any]:
    """PostgreSQL: every dimension's groups from one scan of the rows (``GROUPING SETS``): rows
    (``GROUPING()`` of the columns, each column's value, count)."""
    columns = [dimension.column for dimension in dimensions]
    counted: Any = stmt.with_only_columns(
        func.grouping(*columns).label(DIMENSION),
        *(cast(column, String).label(f"{VALUE}_{i}") for i, column in enumerate(columns)),
        func.count(model.id).label(COUNT),
    )
    sets = func.grouping_sets(*(tuple_(column) for column in columns))
    return scoped(counted.group_by(sets).order_by(None), model, ctx)


def _of_one_scan(rows: Sequence[Any]) -> Iterator[tuple[int, Any, int]]:
    # GROUPING() has one bit per column, the first the highest: 0 for the column a row groups by.
    for row in rows:
        mask, values, n = int(row[0]), row[1:-1], int(row[-1])
        last = len(values) - 1
        index = next(i for i in range(len(values)) if not (mask >> (last - i)) & 1)
        yield index, values[index], n


def _suppress(buckets: list[Bucket], smallest: int) -> None:
    for bucket in buckets:
        bucket.hidden = 0 < bucket.value < smallest
    hidden = [b for b in buckets if b.hidden]
    shown = sorted((b for b in buckets if not b.hidden), key=lambda b: b.value)
    if len(hidden) == 1 and shown:
        shown[0].hidden = True


def total(buckets: Iterable[Bucket]) -> int:
    return sum(b.value for b in buckets)


def shown_total(info: Info, buckets: list[Bucket], attribute: str) -> int | None:
    """The total of a statistic's buckets: null (and listed) when the principal may not list
    the rows of ``attribute`` (a type name) and the total is itself a small group."""
    n = total(buckets)
    smallest = guarded(info.context, attribute)
    if smallest is not None and 0 < n < smallest:
        note_suppressed(info, "total")
        return None
    return n
