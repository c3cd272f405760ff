"""GraphQL types of the grid domain."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.compile import PLAN, Children, Link
from gateway.data import (
    After,
    Before,
    Connection,
    First,
    Last,
    OrderArg,
    PageArgs,
    load_each,
    load_many,
    load_one,
    nested_page,
)
from gateway.kernel import Info
from gateway.schema import COMPUTED_FROM, Node, from_row
from resolvers.grid import tables as t
from resolvers.grid.orders import CommunityOrder, GridOrder, StreetOrder

if TYPE_CHECKING:
    from resolvers.dispute.orders import DisputeOrder
    from resolvers.dispute.types import Dispute, DisputeFilter
    from resolvers.population.orders import ResidentOrder
    from resolvers.population.types import Resident, ResidentFilter
    from resolvers.volunteer.orders import VolunteerOrder
    from resolvers.volunteer.types import Volunteer

FilterArg = strawberry.argument(description="筛选 / filter")

ResidentT = Annotated["Resident", strawberry.lazy("resolvers.population.types")]
ResidentFilterT = Annotated["ResidentFilter", strawberry.lazy("resolvers.population.types")]
DisputeT = Annotated["Dispute", strawberry.lazy("resolvers.dispute.types")]
DisputeFilterT = Annotated["DisputeFilter", strawberry.lazy("resolvers.dispute.types")]
VolunteerT = Annotated["Volunteer", strawberry.lazy("resolvers.volunteer.types")]
ResidentOrderT = Annotated["ResidentOrder", strawberry.lazy("resolvers.population.orders")]
DisputeOrderT = Annotated["DisputeOrder", strawberry.lazy("resolvers.dispute.orders")]
VolunteerOrderT = Annotated["VolunteerOrder", strawberry.lazy("resolvers.volunteer.orders")]


@strawberry.enum(description="风险颜色(分色预警) / risk colour of a grid")
class RiskColour(Enum):
    RED = strawberry.enum_value("red", description="红色 / red: highest")
    ORANGE = strawberry.enum_value("orange", description="橙色 / orange")
    YELLOW = strawberry.enum_value("yellow", description="黄色 / yellow")
    BLUE = strawberry.enum_value("blue", description="蓝色 / blue: calm")


@strawberry.type(description="工作人员(民警、居委会、网格员等) / staff member: officer, committee staff, grid worker")
class Staff(Node):
    name: str = strawberry.field(description="姓名 / full name")
    role: str = strawberry.field(description="角色 / role")
    title: str = strawberry.field(description="职务 / job title")
    agency: str = strawberry.field(description="所属单位 / agency")
    phone: str | None = strawberry.field(description="联系电话 / phone number")


@strawberry.type(description="区 / district (GB/T 2260)")
class District(Node):
    code: str = strawberry.field(description="行政区划代码 / GB/T 2260 code")
    name: str = strawberry.field(description="名称 / name")

    @strawberry.field(
        description="街道/镇 / streets and towns of the district", metadata={PLAN: Children("district_id")}
    )
    async def streets(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[StreetOrder | None, OrderArg] = None,
    ) -> Connection[Street]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(info.context, t.Street, t.Street.district_id, self.db_id, page, street)


@strawberry.type(description="街道/镇 / street or town")
class Street(Node):
    code: str = strawberry.field(description="代码 / code")
    name: str = strawberry.field(description="名称 / name")
    district_id: strawberry.Private[int]

    @strawberry.field(description="所属区 / district", metadata={PLAN: Link("district_id")})
    async def district(self, info: Info) -> District | None:
        row = await load_one(info.context, t.District, self.district_id)
        return None if row is None else district(row)

    @strawberry.field(description="社区/村 / communities and villages", metadata={PLAN: Children("street_id")})
    async def communities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[CommunityOrder | None, OrderArg] = None,
    ) -> Connection[Community]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(info.context, t.Community, t.Community.street_id, self.db_id, page, community)


@strawberry.type(description="社区/村 / community or village (居委会)")
class Community(Node):
    code: str = strawberry.field(description="代码 / code")
    name: str = strawberry.field(description="名称 / name")
    street_id: strawberry.Private[int]

    @strawberry.field(description="所属街道 / street", metadata={PLAN: Link("street_id")})
    async def street(self, info: Info) -> Street | None:
        row = await load_one(info.context, t.Street, self.street_id)
        return None if row is None else street(row)

    @strawberry.field(description="网格 / grids of the community", metadata={PLAN: Children("community_id")})
    async def grids(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[GridOrder | None, OrderArg] = None,
    ) -> Connection[Grid]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(info.context, t.Grid, t.Grid.community_id, self.db_id, page, grid)


@strawberry.type(description="网格 / grid, the smallest unit of community governance")
class Grid(Node):
    code: str = strawberry.field(description="网格编码 / grid code")
    name: str = strawberry.field(description="名称 / name")
    risk_colour: RiskColour = strawberry.field(description="风险颜色(分色预警) / risk colour")
    community_id: strawberry.Private[int]

    @strawberry.field(description="所属社区 / community", metadata={PLAN: Link("community_id")})
    async def community(self, info: Info) -> Community | None:
        row = await load_one(info.context, t.Community, self.community_id)
        return None if row is None else community(row)

    @strawberry.field(description="绑定的警格 / the police grid bound to this grid")
    async def police_grid(self, info: Info) -> PoliceGrid | None:
        binding = await load_one(info.context, t.GridBinding, self.db_id, t.GridBinding.grid_id)
        if binding is None:
            return None
        row = await load_one(info.context, t.PoliceGrid, binding.police_grid_id)
        return None if row is None else police_grid(row)

    @strawberry.field(description="网格员 / grid worker of this grid")
    async def grid_worker(self, info: Info) -> Staff | None:
        rows = await load_many(info.context, t.Staff, t.Staff.grid_id, self.db_id)
        return next((staff(r) for r in rows if r.role == "grid_worker"), None)

    @strawberry.field(description="社区民警(警格责任民警) / community police officer of the bound police grid")
    async def officer(self, info: Info) -> Staff | None:
        binding = await load_one(info.context, t.GridBinding, self.db_id, t.GridBinding.grid_id)
        if binding is None:
            return None
        rows = await load_many(info.context, t.Staff, t.Staff.police_grid_id, binding.police_grid_id)
        return next((staff(r) for r in rows if r.role == "community_police"), None)

    @strawberry.field(description="网格内居民 / residents living in this grid", metadata={PLAN: Children("grid_id")})
    async def residents(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[ResidentOrderT | None, OrderArg] = None,
        filter: Annotated[ResidentFilterT | None, FilterArg] = None,
    ) -> Connection[ResidentT]:
        from resolvers.population.queries import residents_of_grid

        return await residents_of_grid(
            info.context, self.db_id, PageArgs.parse(info.context, first, after, last, before, order_by), filter
        )

    @strawberry.field(description="网格内矛盾纠纷 / disputes in this grid")
    async def disputes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[DisputeOrderT | None, OrderArg] = None,
        filter: Annotated[DisputeFilterT | None, FilterArg] = None,
    ) -> Connection[DisputeT]:
        from resolvers.dispute.queries import disputes_of_grid

        return await disputes_of_grid(
            info.context, self.db_id, PageArgs.parse(info.context, first, after, last, before, order_by), filter
        )

    @strawberry.field(description="网格内志愿者 / volunteers assigned to this grid")
    async def volunteers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[VolunteerOrderT | None, OrderArg] = None,
    ) -> Connection[VolunteerT]:
        from resolvers.volunteer.queries import volunteers_of_grid

        return await volunteers_of_grid(
            info.context, self.db_id, PageArgs.parse(info.context, first, after, last, before, order_by)
        )


@strawberry.type(description="警格 / police grid, the beat of one community police officer")
class PoliceGrid(Node):
    code: str = strawberry.field(description="警格编码 / police grid code")
    name: str = strawberry.field(description="名称 / name")
    station_id: strawberry.Private[int]

    @strawberry.field(description="所属派出所 / police station", metadata={COMPUTED_FROM: ["station_id"]})
    async def station(self, info: Info) -> str | None:
        row = await load_one(info.context, t.PoliceStation, self.station_id)
        return None if row is None else row.name

    @strawberry.field(description="绑定的网格 / grids bound to this police grid")
    async def grids(self, info: Info) -> list[Grid]:
        bindings = await load_many(info.context, t.GridBinding, t.GridBinding.police_grid_id, self.db_id)
        return [grid(r) for r in await load_each(info.context, t.Grid, [b.grid_id for b in bindings])]

    @strawberry.field(description="责任民警 / officers of this police grid")
    async def officers(self, info: Info) -> list[Staff]:
        rows = await load_many(info.context, t.Staff, t.Staff.police_grid_id, self.db_id)
        return [staff(r) for r in rows if r.role == "community_police"]


def district(row: t.District) -> District:
    return from_row(District, row)


def street(row: t.Street) -> Street:
    return from_row(Street, row)


def community(row: t.Community) -> Community:
    return from_row(Community, row)


def grid(row: t.Grid) -> Grid:
    return from_row(Grid, row)


def police_grid(row: t.PoliceGrid) -> PoliceGrid:
    return from_row(PoliceGrid, row)


def staff(row: t.Staff) -> Staff:
    return from_row(Staff, row)
