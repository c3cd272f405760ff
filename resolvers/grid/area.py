"""Area filters: any domain's list can be narrowed to a district, street, community, grid or
police grid. The area is resolved to grid ids in the grid domain's own database first, so the
other domains filter on ``grid_id`` without a cross-database join."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Select, select

from gateway.data import ColumnLike, decode_pk, fetch_rows
from gateway.kernel import BadUserInput, Context
from resolvers.grid.tables import Community, Grid, GridBinding, Street


@strawberry.input(description="辖区筛选(至多填一项) / area filter: give at most one of these")
class AreaFilter:
    district_id: strawberry.ID | None = strawberry.field(default=None, description="区 / district ID")
    street_id: strawberry.ID | None = strawberry.field(default=None, description="街道 / street ID")
    community_id: strawberry.ID | None = strawberry.field(default=None, description="社区 / community ID")
    grid_id: strawberry.ID | None = strawberry.field(default=None, description="网格 / grid ID")
    police_grid_id: strawberry.ID | None = strawberry.field(default=None, description="警格 / police grid ID")


# The argument every list and feed takes to narrow itself to an area.
AreaArg = Annotated[AreaFilter | None, strawberry.argument(description="辖区 / narrow to an area")]


def grids_in_area(area: AreaFilter) -> Select[Any] | None:
    """A select of the grid ids inside ``area`` (in the grid domain), or None for no filter."""
    given = {k: v for k, v in vars(area).items() if v is not None}
    if len(given) > 1:
        raise BadUserInput(f"area: give at most one of {', '.join(sorted(given))}", argument="area")
    if area.grid_id is not None:
        return select(Grid.id).where(Grid.id == decode_pk(area.grid_id, "Grid"))
    if area.community_id is not None:
        return select(Grid.id).where(Grid.community_id == decode_pk(area.community_id, "Community"))
    if area.street_id is not None:
        street = decode_pk(area.street_id, "Street")
        return select(Grid.id).join(Community).where(Community.street_id == street)
    if area.district_id is not None:
        district = decode_pk(area.district_id, "District")
        return select(Grid.id).join(Community).join(Street).where(Street.district_id == district)
    if area.police_grid_id is not None:
        police_grid = decode_pk(area.police_grid_id, "PoliceGrid")
        return (
            select(Grid.id)
            .join(GridBinding, GridBinding.grid_id == Grid.id)
            .where(GridBinding.police_grid_id == police_grid)
        )
    return None


async def grid_ids_in(ctx: Context, area: AreaFilter | None) -> set[int] | None:
    """The ids of the grids in ``area`` (as the principal may see them), or None for no filter."""
    grids = None if area is None else grids_in_area(area)
    if grids is None:
        return None
    return {row[0] for row in await fetch_rows(ctx, Grid, grids)}


async def in_area(ctx: Context, column: ColumnLike, area: AreaFilter | None) -> ColumnElement[bool] | None:
    """A condition keeping the rows whose ``column`` (a grid id) lies in ``area``."""
    ids = await grid_ids_in(ctx, area)
    return None if ids is None else column.in_(sorted(ids))
