"""Grid statistics: counts by risk colour (分色预警)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.data import Bucket, Dimension, grouped, shown_total
from gateway.kernel import Info
from gateway.schema import COUNTS
from resolvers.grid import tables as t
from resolvers.grid.area import AreaFilter
from resolvers.grid.queries import GridFilter, grid_select


@strawberry.type(description="网格统计 / grid statistics")
class GridStats:
    total: int | None = strawberry.field(description="网格数(过小不显示) / number of grids; null when too small")
    by_risk_colour: list[Bucket] = strawberry.field(description="按风险颜色 / by risk colour")


@strawberry.type
class GridStatsQuery:
    @strawberry.field(description="网格统计 / grid counts by risk colour", metadata={COUNTS: "Grid"})
    async def grid_stats(
        self, info: Info, area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None
    ) -> GridStats:
        stmt = grid_select(GridFilter(area=area))
        (colours,) = await grouped(info.context, t.Grid, stmt, Dimension(t.Grid.risk_colour, "Grid.riskColour"))
        return GridStats(total=shown_total(info, colours, "Grid"), by_risk_colour=colours)
