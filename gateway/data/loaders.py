"""Per-request DataLoaders for links between rows: one batched, scoped query per link.

A link across domains always goes through one of these, never through a SQL join,
because the two domains may live in different databases.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from gateway.data.reads import as_read, execute
from gateway.kernel import Context

Row = Any
KEY = "gw_key"


class _RowsByKey(DataLoader[Hashable, list[Row]]):
    def __init__(self, ctx: Context, model: type[Any], column: InstrumentedAttribute[Any]) -> None:
        super().__init__()
        self.ctx, self.model, self.column = ctx, model, column

    async def batch_load_fn(self, keys: Sequence[Hashable]) -> list[list[Row]]:
        stmt = select(self.model).where(self.column.in_(list(keys))).order_by(self.model.id)
        # The key is read apart from the columns: a masked column can still be looked up by value.
        stmt = as_read(stmt, self.model, self.ctx, self.column.label(KEY))
        grouped: dict[Hashable, list[Row]] = {k: [] for k in keys}
        for row in await execute(self.ctx, self.model, stmt):
            grouped[getattr(row, KEY)].append(row)
        return [grouped[k] for k in keys]


def _loader(ctx: Context, model: type[Any], column: InstrumentedAttribute[Any]) -> _RowsByKey:
    return ctx.loader(("rows-by-key", model, column.key), lambda: _RowsByKey(ctx, model, column))


async def load_one(
    ctx: Context, model: type[Any], key: Hashable | None, column: InstrumentedAttribute[Any] | None = None
) -> Row | None:
    """The row whose ``column`` (the primary key by default) equals ``key``; None when absent or hidden."""
    if key is None:
        return None
    rows = await _loader(ctx, model, column if column is not None else model.id).load(key)
    return rows[0] if rows else None


async def load_many(ctx: Context, model: type[Any], column: InstrumentedAttribute[Any], key: Hashable) -> list[Row]:
    """Every row whose ``column`` equals ``key``, in primary-key order."""
    return list(await _loader(ctx, model, column).load(key))


async def load_each(ctx: Context, model: type[Any], keys: Sequence[Hashable]) -> list[Row]:
    """The rows with these primary keys, in the order given; hidden or missing ones are left out."""
    found = await _loader(ctx, model, model.id).load_many(list(keys))
    return [rows[0] for rows in found if rows]
