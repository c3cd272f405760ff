"""What other domains ask of the grid domain, without reading its tables: its rows by ID as
GraphQL types (through the request's loaders, so as the caller may see them), and the checks
on a grid or staff member named in a mutation's input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, bindparam, select

from gateway.data import load_one
from gateway.kernel import Context
from resolvers.grid.tables import Community, GridBinding
from resolvers.grid.tables import District as DistrictRow
from resolvers.grid.tables import Grid as GridRow
from resolvers.grid.tables import Staff as StaffRow
from resolvers.grid.types import Grid, Staff, grid, staff


async def grid_by_id(ctx: Context, pk: int | None) -> Grid | None:
    row = await load_one(ctx, GridRow, pk)
    return None if row is None else grid(row)


async def staff_by_id(ctx: Context, pk: int | None) -> Staff | None:
    row = await load_one(ctx, StaffRow, pk)
    return None if row is None else staff(row)


async def district_name(ctx: Context, pk: int | None) -> str | None:
    row = await load_one(ctx, DistrictRow, pk)
    return None if row is None else str(row.name)


# The checks below read the grid database directly, not as the caller: an input naming a grid or
# an officer is checked against what exists, whatever the caller may read of the grid domain.


async def grid_exists(ctx: Context, grid_id: int) -> bool:
    async with ctx.databases.session("grid") as session:
        return await session.scalar(select(GridRow.id).where(GridRow.id == grid_id)) is not None


async def street_of_grid(ctx: Context, grid_id: int) -> int | None:
    """The street the grid's community lies in; None when there is no such grid."""
    found = await ctx.databases.rows("grid", ctx.databases.kept("grid", _street_of_grid).bound(grid_id=grid_id))
    return int(found[0]["street_id"]) if found else None


def _street_of_grid() -> Select[Any]:
    # Asked by every report of a dispute: kept compiled (Databases.kept), the grid given at run time.
    grid_id = bindparam("grid_id", None, type_=Integer)
    return select(Community.street_id).join(GridRow, GridRow.community_id == Community.id).where(GridRow.id == grid_id)


async def serving_staff(ctx: Context, pk: int, role: str) -> bool:
    """Whether staff member ``pk`` exists, is active and has ``role``."""
    async with ctx.databases.session("grid") as session:
        row = await session.get(StaffRow, pk)
    return row is not None and row.role == role and bool(row.active)


async def officer_covers(ctx: Context, pk: int, grid_id: int) -> bool:
    """Whether officer ``pk`` (serving community police) sees grid ``grid_id``: one of the grids
    bound to the officer's police grid, the officer's area under the policies."""
    stmt = (
        select(GridBinding.id)
        .join(StaffRow, StaffRow.police_grid_id == GridBinding.police_grid_id)
        .where(StaffRow.id == pk, StaffRow.role == "community_police", StaffRow.active, GridBinding.grid_id == grid_id)
    )
    async with ctx.databases.session("grid") as session:
        return await session.scalar(stmt) is not None
