"""GraphQL types of the volunteer domain."""

from __future__ import annotations

from datetime import date, datetime
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
from resolvers.grid.lookups import district_name, grid_by_id
from resolvers.grid.types import Grid
from resolvers.volunteer import tables as t
from resolvers.volunteer.orders import PatrolOrder, VolunteerOrder

if TYPE_CHECKING:
    from resolvers.population.types import Resident

ResidentT = Annotated["Resident", strawberry.lazy("resolvers.population.types")]


@strawberry.type(description="志愿者 / volunteer (群防群治力量)")
class Volunteer(Node):
    skills: str = strawberry.field(description="技能特长 / skills")
    status: str = strawberry.field(
        description="状态(active/inactive/left:已转往他处) / status (left: serves elsewhere now)"
    )
    joined_on: date = strawberry.field(description="加入日期 / joined on")
    resident_id: strawberry.Private[int]
    team_id: strawberry.Private[int]
    grid_id: strawberry.Private[int]

    @strawberry.field(description="居民档案 / the volunteer's resident record")
    async def resident(self, info: Info) -> ResidentT | None:
        from resolvers.population.lookups import resident_by_id

        return await resident_by_id(info.context, self.resident_id)

    @strawberry.field(description="所属队伍 / team", metadata={PLAN: Link("team_id")})
    async def team(self, info: Info) -> VolunteerTeam | None:
        row = await load_one(info.context, t.VolunteerTeam, self.team_id)
        return None if row is None else from_row(VolunteerTeam, row)

    @strawberry.field(description="服务网格 / grid the volunteer serves")
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)


@strawberry.type(description="巡逻班次 / patrol shift")
class Patrol(Node):
    starts_at: datetime = strawberry.field(description="开始时间 / starts at")
    ends_at: datetime = strawberry.field(description="结束时间 / ends at")
    route: str = strawberry.field(description="巡逻路线 / route")
    grid_id: strawberry.Private[int]

    @strawberry.field(description="巡逻网格 / grid patrolled")
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)

    @strawberry.field(description="参加的志愿者 / volunteers on the shift")
    async def members(self, info: Info) -> list[Volunteer]:
        links = await load_many(info.context, t.PatrolMember, t.PatrolMember.patrol_id, self.db_id)
        rows = await load_each(info.context, t.Volunteer, [link.volunteer_id for link in links])
        return [volunteer(r) for r in rows]


@strawberry.type(description="志愿者队伍(品牌) / branded volunteer team, e.g. 和平红马甲")
class VolunteerTeam(Node):
    name: str = strawberry.field(description="队伍名称 / team name")
    brand: str = strawberry.field(description="品牌 / brand")
    founded_on: date = strawberry.field(description="成立日期 / founded on")
    district_id: strawberry.Private[int]

    @strawberry.field(description="所属区 / district", metadata={COMPUTED_FROM: ["district_id"]})
    async def district(self, info: Info) -> str | None:
        return await district_name(info.context, self.district_id)

    @strawberry.field(description="队员 / members", metadata={PLAN: Children("team_id")})
    async def volunteers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[VolunteerOrder | None, OrderArg] = None,
    ) -> Connection[Volunteer]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(info.context, t.Volunteer, t.Volunteer.team_id, self.db_id, page, volunteer)

    @strawberry.field(description="巡逻班次 / patrol shifts", metadata={PLAN: Children("team_id")})
    async def patrols(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[PatrolOrder | None, OrderArg] = None,
    ) -> Connection[Patrol]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(
            info.context, t.Patrol, t.Patrol.team_id, self.db_id, page, lambda r: from_row(Patrol, r)
        )


def volunteer(row: t.Volunteer) -> Volunteer:
    return from_row(Volunteer, row)


def patrol(row: t.Patrol) -> Patrol:
    return from_row(Patrol, row)
