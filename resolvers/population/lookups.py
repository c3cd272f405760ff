"""What other domains ask of the population domain, without reading its tables: a resident by ID,
as the caller may see it."""

from __future__ import annotations

from sqlalchemy import select

from gateway.data import fetch_rows, load_one
from gateway.kernel import Context
from resolvers.population.tables import Resident as ResidentRow
from resolvers.population.types import Resident, resident


async def resident_by_id(ctx: Context, pk: int | None) -> Resident | None:
    row = await load_one(ctx, ResidentRow, pk)
    return None if row is None else resident(row)


async def resident_visible(ctx: Context, pk: int) -> bool:
    """Whether the caller may see resident ``pk`` (a hidden one reads as missing)."""
    stmt = select(ResidentRow.id).where(ResidentRow.id == pk)
    return bool(await fetch_rows(ctx, ResidentRow, stmt))
