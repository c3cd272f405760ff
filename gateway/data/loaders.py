"""Per-request DataLoaders for links between rows: one batched, scoped query per link.

A link across domains always goes through one of these, never through a SQL join,
because the two domains may live in different databases.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import BigInteger, Integer, Select, SmallInteger, select
from sqlalchemy.orm import InstrumentedAttribute

from gateway.data.driver import KEYS, Ready, among
from gateway.data.reads import as_read, domain_of, execute
from gateway.kernel import Context

Row = Any
KEY = "gw_key"


class _RowsByKey(DataLoader[Hashable, list[Row]]):
    def __init__(self, ctx: Context, model: type[Any], column: InstrumentedAttribute[Any]) -> None:
        super().__init__()
        self.ctx, self.model, self.column = ctx, model, column

    async def batch_load_fn(self, keys: Sequence[Hashable]) -> list[list[Row]]:
        grouped: dict[Hashable, list[Row]] = {k: [] for k in keys}
        # A key the column cannot hold (an ID past a 32-bit column's range) matches no row: PostgreSQL
        # would refuse the parameter, and every other key of the batch with it.
        asked = [k for k in keys if _storable(self.column, k)]
        if not asked:
            return [grouped[k] for k in keys]
        kept = _kept(self.ctx, self.model, self.column)
        if kept is not None:
            found: Sequence[Row] = [
                Fetched(row)
                for row in await self.ctx.databases.rows(domain_of(self.model), kept.bound(**{KEYS: asked}))
            ]
        else:
            stmt = select(self.model).where(self.column.in_(asked)).order_by(self.model.id)
            found = await execute(self.ctx, self.model, _read(stmt, self.ctx, self.model, self.column))
        for row in found:
            grouped[getattr(row, KEY)].append(row)
        return [grouped[k] for k in keys]


def _storable(column: InstrumentedAttribute[Any], key: Hashable) -> bool:
    kind = column.type
    if not isinstance(key, int) or not isinstance(kind, Integer) or isinstance(kind, BigInteger):
        return True
    bits = 16 if isinstance(kind, SmallInteger) else 32
    return bool(-(2 ** (bits - 1)) <= key < 2 ** (bits - 1))


def _read(stmt: Select[Any], ctx: Context, model: type[Any], column: InstrumentedAttribute[Any]) -> Select[Any]:
    # The key is read apart from the columns: a masked column can still be looked up by value.
    return as_read(stmt, model, ctx, column.label(KEY))


@dataclass(frozen=True)
class _Kept:
    policy: object
    scope: type
    read: Ready | None


def _kept(ctx: Context, model: type[Any], column: InstrumentedAttribute[Any]) -> Ready | None:
    """On PostgreSQL, the batch read of ``model`` by ``column`` for this principal, built and compiled
    once and run on the driver: everything it depends on is in the key (the principal with its area and
    role) or checked (the policy, the kind of scope). None where it runs as before: off PostgreSQL, or
    where a column's type converts what the database returns (the driver hands back its own values)."""
    domain = domain_of(model)
    if ctx.databases.driver(domain) is None:
        return None
    key = (_Kept, model, column.key, ctx.principal)
    found = ctx.plans.get(key)
    if isinstance(found, _Kept) and found.policy is ctx.policy and found.scope is type(ctx.scope):
        return found.read
    stmt = _read(select(model).where(among(column, KEYS, True)).order_by(model.id), ctx, model, column)
    dialect = ctx.databases.engine(domain).dialect
    read = ctx.databases.ready(domain, stmt) if all(_as_is(c.type, dialect) for c in stmt.selected_columns) else None
    ctx.plans.put(key, _Kept(ctx.policy, type(ctx.scope), read))
    return read


def _as_is(kind: Any, dialect: Any) -> bool:
    """Whether SQLAlchemy hands a value of ``kind`` back as the driver returns it."""
    try:
        return kind._cached_result_processor(dialect, None) is None
    except Exception:
        return False  # a processor that needs the column's database type: one there is


class Fetched:
    """A row the driver returned, read as resolvers read rows: ``row.name``."""

    __slots__ = ("_values",)

    def __init__(self, values: Any) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


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
