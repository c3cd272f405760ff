"""Statistics: counts grouped by a column, as the principal's row scope allows, never the rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from sqlalchemy import Select, func

from gateway.data.reads import ColumnLike, fetch_rows
from gateway.kernel import Context


@strawberry.type(description="分组计数 / one group of a statistic and its count")
class Bucket:
    key: str = strawberry.field(description="分组 / group")
    count: int = strawberry.field(description="数量 / count")


async def grouped(
    ctx: Context,
    model: type[Any],
    stmt: Select[Any],
    column: ColumnLike,
    label: Callable[[Any], str] = str,
) -> list[Bucket]:
    """Counts of ``stmt``'s rows per value of ``column``, relabelled and merged by ``label``."""
    counted: Any = stmt.with_only_columns(column, func.count(model.id)).group_by(column).order_by(None)
    merged: dict[str, int] = {}
    for value, n in await fetch_rows(ctx, model, counted):
        key = label(value)
        merged[key] = merged.get(key, 0) + int(n)
    return [Bucket(key=k, count=n) for k, n in sorted(merged.items())]


def total(buckets: Iterable[Bucket]) -> int:
    return sum(b.count for b in buckets)
