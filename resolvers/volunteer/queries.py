"""Root fields of the volunteer domain, and the links other domains use."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

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
    fetch_rows,
    load_one,
    nested_page,
    root_page,
    scoped,
    search_text,
)
from gateway.kernel import BadUserInput, Context, Info
from gateway.schema import TESTS, from_row
from resolvers.grid.area import AreaFilter, in_area
from resolvers.volunteer import tables as t
from resolvers.volunteer.orders import VolunteerOrder, VolunteerTeamOrder
from resolvers.volunteer.types import Volunteer, VolunteerTeam, volunteer


async def volunteers_of_grid(ctx: Context, grid_id: int, page: PageArgs) -> Connection[Volunteer]:
    return await nested_page(ctx, t.Volunteer, t.Volunteer.grid_id, grid_id, page, volunteer)


async def volunteer_of_resident(ctx: Context, resident_id: int) -> Volunteer | None:
    row = await load_one(ctx, t.Volunteer, resident_id, t.Volunteer.resident_id)
    return None if row is None else volunteer(row)


@strawberry.input(description="志愿者筛选 / volunteer filter")
class VolunteerFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="队伍 / team ID", metadata={TESTS: ["Volunteer.team"]}
    )
    status: str | None = strawberry.field(
        default=None, description="状态 / status", metadata={TESTS: ["Volunteer.status"]}
    )
    skill: str | None = strawberry.field(
        default=None, description="技能包含 / skills contain", metadata={TESTS: ["Volunteer.skills"]}
    )
    name: str | None = strawberry.field(
        default=None,
        description="姓名包含(居民档案中可明文读取的姓名) / name contains (as read in clear on the resident record)",
        metadata={TESTS: ["Resident.name"]},
    )


# Volunteers whose names one search may test; past this, the search asks for another filter.
MOST_NAMED = 20_000


async def _named(ctx: Context, stmt: Select[Any], text: str) -> list[int]:
    """The residents behind the volunteers ``stmt`` selects whose name, as the caller reads it on
    the resident record (its row scope, in clear), contains ``text``: asked of the population domain."""
    from resolvers.population.lookups import residents_named

    ids = scoped(stmt.with_only_columns(t.Volunteer.resident_id).distinct().limit(MOST_NAMED + 1), t.Volunteer, ctx)
    linked = [row.resident_id for row in await fetch_rows(ctx, t.Volunteer, ids)]
    if len(linked) > MOST_NAMED:
        raise BadUserInput(
            "filter.name: narrow the search with another filter (area, team) first", argument="filter.name"
        )
    return sorted(await residents_named(ctx, linked, text))


@strawberry.type
class VolunteerQuery:
    @strawberry.field(description="志愿者列表 / volunteers", metadata={PLAN: ROOT_LIST})
    async def volunteers(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[VolunteerOrder | None, OrderArg] = None,
        filter: Annotated[VolunteerFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Volunteer]:
        stmt = select(t.Volunteer)
        if filter is not None:
            area = await in_area(info.context, t.Volunteer.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(area)
            if filter.team_id is not None:
                stmt = stmt.where(t.Volunteer.team_id == decode_pk(filter.team_id, "VolunteerTeam"))
            if filter.status is not None:
                stmt = stmt.where(t.Volunteer.status == filter.status)
            skill = search_text(filter.skill, "filter.skill")
            if skill:
                stmt = stmt.where(contains(t.Volunteer.skills, skill))
            name = search_text(filter.name, "filter.name")
            if name:
                stmt = stmt.where(t.Volunteer.resident_id.in_(await _named(info.context, stmt, name)))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Volunteer, stmt, page, volunteer)

    @strawberry.field(description="志愿者队伍列表 / volunteer teams", metadata={PLAN: ROOT_LIST})
    async def volunteer_teams(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[VolunteerTeamOrder | None, OrderArg] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="名称或品牌包含 / name or brand contains",
                metadata={TESTS: ["VolunteerTeam.name", "VolunteerTeam.brand"]},
            ),
        ] = None,
    ) -> Connection[VolunteerTeam]:
        stmt = select(t.VolunteerTeam)
        text = search_text(search, "search")
        if text:
            stmt = stmt.where(contains(t.VolunteerTeam.name, text) | contains(t.VolunteerTeam.brand, text))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.VolunteerTeam, stmt, page, lambda r: from_row(VolunteerTeam, r))
