"""Root fields of the grid domain."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, or_, select

from gateway.compile import PLAN, ROOT_LIST
from gateway.data import (
    After,
    Before,
    Connection,
    First,
    Last,
    OrderArg,
    PageArgs,
    contains,
    decode_pk,
    load_one,
    root_page,
    search_text,
)
from gateway.kernel import Context, Info
from gateway.schema import TESTS, from_row
from resolvers.grid import tables as t
from resolvers.grid.area import AreaFilter, grids_in_area
from resolvers.grid.orders import CommunityOrder, DistrictOrder, GridOrder, PoliceGridOrder, StaffOrder, StreetOrder
from resolvers.grid.types import (
    Community,
    District,
    Grid,
    PoliceGrid,
    RiskColour,
    Staff,
    Street,
    community,
    district,
    grid,
    police_grid,
    street,
)


@strawberry.input(description="网格筛选 / grid filter")
class GridFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    risk_colour: RiskColour | None = strawberry.field(
        default=None, description="风险颜色 / risk colour", metadata={TESTS: ["Grid.riskColour"]}
    )
    search: str | None = strawberry.field(
        default=None, description="名称或编码包含 / name or code contains", metadata={TESTS: ["Grid.name", "Grid.code"]}
    )


@strawberry.input(description="警格筛选 / police grid filter")
class PoliceGridFilter:
    district_id: strawberry.ID | None = strawberry.field(
        default=None, description="区 / district ID", metadata={TESTS: ["PoliceGrid.station"]}
    )
    search: str | None = strawberry.field(
        default=None,
        description="名称或编码包含 / name or code contains",
        metadata={TESTS: ["PoliceGrid.name", "PoliceGrid.code"]},
    )


@strawberry.input(description="工作人员筛选 / staff filter")
class StaffFilter:
    role: str | None = strawberry.field(
        default=None, description="角色(精确) / exact role", metadata={TESTS: ["Staff.role"]}
    )
    search: str | None = strawberry.field(
        default=None, description="姓名包含 / name contains", metadata={TESTS: ["Staff.name"]}
    )


def grid_select(filter: GridFilter | None) -> Select[Any]:
    stmt = select(t.Grid)
    if filter is None:
        return stmt
    if filter.area is not None:
        area = grids_in_area(filter.area)
        if area is not None:
            stmt = stmt.where(t.Grid.id.in_(area.scalar_subquery()))
    if filter.risk_colour is not None:
        stmt = stmt.where(t.Grid.risk_colour == filter.risk_colour.value)
    text = search_text(filter.search, "filter.search")
    if text:
        stmt = stmt.where(or_(contains(t.Grid.name, text), contains(t.Grid.code, text)))
    return stmt


async def _by_id(ctx: Context, model: type[Any], type_name: str, id: str) -> Any:
    return await load_one(ctx, model, decode_pk(id, type_name))


@strawberry.type
class GridQuery:
    @strawberry.field(description="区列表 / districts of the city", metadata={PLAN: ROOT_LIST})
    async def districts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[DistrictOrder | None, OrderArg] = None,
    ) -> Connection[District]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.District, select(t.District), page, district)

    @strawberry.field(description="街道/镇列表 / streets and towns", metadata={PLAN: ROOT_LIST})
    async def streets(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[StreetOrder | None, OrderArg] = None,
        district_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="区 / district ID", metadata={TESTS: ["Street.district"]}),
        ] = None,
    ) -> Connection[Street]:
        stmt = select(t.Street)
        if district_id is not None:
            stmt = stmt.where(t.Street.district_id == decode_pk(district_id, "District"))
        return await root_page(
            info.context, t.Street, stmt, PageArgs.parse(info.context, first, after, last, before, order_by), street
        )

    @strawberry.field(description="社区列表 / communities", metadata={PLAN: ROOT_LIST})
    async def communities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[CommunityOrder | None, OrderArg] = None,
        street_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="街道 / street ID", metadata={TESTS: ["Community.street"]}),
        ] = None,
    ) -> Connection[Community]:
        stmt = select(t.Community)
        if street_id is not None:
            stmt = stmt.where(t.Community.street_id == decode_pk(street_id, "Street"))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Community, stmt, page, community)

    @strawberry.field(description="网格列表 / grids", metadata={PLAN: ROOT_LIST})
    async def grids(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[GridOrder | None, OrderArg] = None,
        filter: Annotated[GridFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Grid]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Grid, grid_select(filter), page, grid)

    @strawberry.field(description="按标识查网格 / one grid by ID")
    async def grid(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="网格标识 / grid ID")]
    ) -> Grid | None:
        row = await _by_id(info.context, t.Grid, "Grid", id)
        return None if row is None else grid(row)

    @strawberry.field(description="警格列表 / police grids", metadata={PLAN: ROOT_LIST})
    async def police_grids(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[PoliceGridOrder | None, OrderArg] = None,
        filter: Annotated[PoliceGridFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[PoliceGrid]:
        stmt = select(t.PoliceGrid)
        if filter is not None:
            if filter.district_id is not None:
                stations = select(t.PoliceStation.id).where(
                    t.PoliceStation.district_id == decode_pk(filter.district_id, "District")
                )
                stmt = stmt.where(t.PoliceGrid.station_id.in_(stations.scalar_subquery()))
            text = search_text(filter.search, "filter.search")
            if text:
                stmt = stmt.where(or_(contains(t.PoliceGrid.name, text), contains(t.PoliceGrid.code, text)))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.PoliceGrid, stmt, page, police_grid)

    @strawberry.field(
        description="工作人员列表 / staff: officers, committee staff, grid workers", metadata={PLAN: ROOT_LIST}
    )
    async def staff(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[StaffOrder | None, OrderArg] = None,
        filter: Annotated[StaffFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Staff]:
        stmt = select(t.Staff)
        if filter is not None:
            if filter.role is not None:
                stmt = stmt.where(t.Staff.role == filter.role)
            text = search_text(filter.search, "filter.search")
            if text:
                stmt = stmt.where(contains(t.Staff.name, text))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Staff, stmt, page, lambda row: from_row(Staff, row))
