"""Volunteer mutations (群防群治): enrol a resident in a team, schedule patrols, assign a grid."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import encode_id, scoped
from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Info, not_found
from gateway.kernel.times import today
from gateway.write import (
    authorize,
    client_mutation_id_field,
    echoed_client_mutation_id_field,
    inputs,
    preset,
    row_to_change,
    transaction,
    written,
)
from resolvers.grid.lookups import grid_exists
from resolvers.population.lookups import resident_visible
from resolvers.volunteer import tables as t
from resolvers.volunteer.types import Patrol, Volunteer, patrol, volunteer

VOLUNTEERS = "volunteer"
PATROLS = "patrol"
LONGEST_SHIFT = timedelta(hours=24)
MOST_ON_A_SHIFT = 50


@strawberry.input(description="志愿者登记 / enrol a resident as a volunteer")
class EnrolVolunteerInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / the resident")
    team_id: strawberry.ID = strawberry.field(description="队伍 / the team to join")
    grid_id: strawberry.ID = strawberry.field(description="服务网格 / grid to serve")
    skills: list[str] = strawberry.field(description="技能特长 / skills, e.g. 巡逻防控")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="巡逻排班 / schedule a patrol shift")
class SchedulePatrolInput:
    team_id: strawberry.ID = strawberry.field(description="队伍 / the team on patrol")
    grid_id: strawberry.ID = strawberry.field(description="巡逻网格 / grid patrolled")
    starts_at: datetime = strawberry.field(description="开始时间(含时区) / starts at, with offset")
    ends_at: datetime = strawberry.field(description="结束时间(含时区) / ends at, with offset")
    route: str = strawberry.field(description="巡逻路线 / route")
    volunteer_ids: list[strawberry.ID] = strawberry.field(description="参加的志愿者(本队) / volunteers, of that team")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="调整服务网格 / move a volunteer to another grid")
class AssignVolunteerGridInput:
    volunteer_id: strawberry.ID = strawberry.field(description="志愿者标识 / the volunteer")
    grid_id: strawberry.ID = strawberry.field(description="新的服务网格 / grid to serve from now on")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.type(description="志愿者变更结果 / the volunteer after the change")
class VolunteerPayload:
    volunteer: Volunteer | None = strawberry.field(description="志愿者 / the volunteer, as you may see them")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="排班结果 / the patrol shift scheduled")
class PatrolPayload:
    patrol: Patrol | None = strawberry.field(description="巡逻班次 / the patrol shift, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


def _skills(given: list[str]) -> str:
    """Skills as the table keeps them: distinct, comma-separated."""
    skills: list[str] = []
    for n, skill in enumerate(given):
        name = inputs.required_text(skill, f"input.skills[{n}]", 20)
        if "," in name or "\uff0c" in name:
            raise BadUserInput(f"input.skills[{n}]: one skill per entry, without commas", argument=f"input.skills[{n}]")
        if name not in skills:
            skills.append(name)
    joined = ",".join(skills)
    if len(joined) > 200:
        raise BadUserInput("input.skills: at most 200 characters in all", argument="input.skills")
    return joined


async def _grid(ctx: Context, mutation: str, given: strawberry.ID) -> int:
    """The grid written to (preset where the grant says so), which must exist and lie in the caller's area."""
    grid_id = int(preset(ctx, mutation, "gridId", inputs.pk(str(given), "Grid", "input.gridId")))
    if not await grid_exists(ctx, grid_id):
        raise not_found("Grid", "input.gridId")
    authorize(ctx, mutation, grid_id)
    return grid_id


async def _resident(ctx: Context, given: strawberry.ID) -> int:
    """A resident the caller may see; a hidden one reads as missing."""
    pk = inputs.pk(str(given), "Resident", "input.residentId")
    if not await resident_visible(ctx, pk):
        raise not_found("Resident", "input.residentId")
    return pk


async def _team(session: AsyncSession, given: strawberry.ID) -> int:
    pk = inputs.pk(str(given), "VolunteerTeam", "input.teamId")
    if await session.get(t.VolunteerTeam, pk) is None:
        raise not_found("VolunteerTeam", "input.teamId")
    return pk


def _volunteer_ids(given: list[strawberry.ID]) -> list[int]:
    if not given or len(given) > MOST_ON_A_SHIFT:
        raise BadUserInput(f"input.volunteerIds: name 1 to {MOST_ON_A_SHIFT} volunteers", argument="input.volunteerIds")
    ids: list[int] = []
    for n, each in enumerate(given):
        pk = inputs.pk(str(each), "Volunteer", f"input.volunteerIds[{n}]")
        if pk not in ids:
            ids.append(pk)
    return ids


async def _crew(ctx: Context, session: AsyncSession, ids: list[int], team_id: int) -> None:
    """Every volunteer named is one the caller may see, active, and in the team on patrol."""
    stmt = scoped(select(t.Volunteer).where(t.Volunteer.id.in_(ids)), t.Volunteer, ctx)
    found = {row.id: row for row in (await session.scalars(stmt)).all()}
    for n, pk in enumerate(ids):
        at = f"input.volunteerIds[{n}]"
        row = found.get(pk)
        if row is None:
            raise not_found("Volunteer", at)
        if row.team_id != team_id:
            raise BadUserInput(f"{at}: the volunteer is not in team {encode_id('VolunteerTeam', team_id)}", argument=at)
        if row.status != "active":
            raise BadUserInput(f"{at}: the volunteer is {row.status}, not active", argument=at)


async def _record(session: AsyncSession, topic: str, type_name: str, row: Any, kind: str) -> None:
    await emit(session, t.VolunteerOutbox, topic, type_name, row.id, row.grid_id, kind)


async def _volunteer_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> VolunteerPayload:
    return VolunteerPayload(
        volunteer=await written(ctx, t.Volunteer, pk, volunteer), client_mutation_id=client_mutation_id
    )


async def _enrol(ctx: Context, given: EnrolVolunteerInput, resident_id: int, grid_id: int, skills: str) -> int:
    """Update the resident's current profile, or start one; the profile's ID.

    A current profile the caller may not see (it serves another area) is not refused, which
    would tell the caller the person volunteers elsewhere, nor taken over with its history,
    which would show it: it is closed there ("left", the area learns it from its own feed) and
    a new profile starts here, answering exactly as a first enrolment does."""
    async with transaction(ctx, "volunteer") as session:
        team_id = await _team(session, given.team_id)
        current = select(t.Volunteer).where(t.Volunteer.resident_id == resident_id, text(t.CURRENT))
        row = (await session.scalars(current.with_for_update())).first()
        kind = "updated"
        if row is not None and (await session.scalars(scoped(current, t.Volunteer, ctx))).first() is None:
            row.status = "left"
            await session.flush()
            await _record(session, VOLUNTEERS, "Volunteer", row, "left")
            row = None
        if row is None:
            kind = "enrolled"
            row = t.Volunteer(resident_id=resident_id, joined_on=today(ctx.settings.zone))
            session.add(row)
        elif row.grid_id != grid_id:
            # Leaving one grid of the caller's area for another: the grid left learns it too.
            await _record(session, VOLUNTEERS, "Volunteer", row, "transferred")
        row.team_id, row.grid_id, row.skills, row.status = team_id, grid_id, skills, "active"
        await session.flush()
        await _record(session, VOLUNTEERS, "Volunteer", row, kind)
    return int(row.id)


@strawberry.type
class VolunteerMutation:
    @strawberry.mutation(
        description="登记志愿者(再次登记即更新) / enrol a resident; enrolling them again updates their one profile"
    )
    async def enrol_volunteer(
        self, info: Info, input: Annotated[EnrolVolunteerInput, strawberry.argument(description="登记 / the enrolment")]
    ) -> VolunteerPayload:
        ctx = info.context
        skills = _skills(input.skills)
        grid_id = await _grid(ctx, "enrolVolunteer", input.grid_id)
        resident_id = await _resident(ctx, input.resident_id)
        try:
            pk = await _enrol(ctx, input, resident_id, grid_id, skills)
        except IntegrityError:
            # Another request enrolled the same resident a moment ago: update what it wrote.
            pk = await _enrol(ctx, input, resident_id, grid_id, skills)
        return await _volunteer_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="安排巡逻班次 / schedule a team's patrol shift in a grid")
    async def schedule_patrol(
        self, info: Info, input: Annotated[SchedulePatrolInput, strawberry.argument(description="班次 / the shift")]
    ) -> PatrolPayload:
        ctx = info.context
        starts = inputs.moment(input.starts_at, "input.startsAt")
        ends = inputs.moment(input.ends_at, "input.endsAt")
        if ends <= starts:
            raise BadUserInput("input.endsAt must be after input.startsAt", argument="input.endsAt")
        if ends - starts > LONGEST_SHIFT:
            raise BadUserInput("input.endsAt: a shift lasts at most 24 hours", argument="input.endsAt")
        route = inputs.required_text(input.route, "input.route", 200)
        ids = _volunteer_ids(input.volunteer_ids)
        grid_id = await _grid(ctx, "schedulePatrol", input.grid_id)
        async with transaction(ctx, "volunteer") as session:
            team_id = await _team(session, input.team_id)
            await _crew(ctx, session, ids, team_id)
            same = select(t.Patrol.id).where(
                t.Patrol.team_id == team_id, t.Patrol.grid_id == grid_id, t.Patrol.starts_at == starts
            )
            existing = await session.scalar(same)
            if existing is not None:
                raise Conflict(
                    "This team already has a shift in this grid at that time",
                    argument="input.startsAt",
                    id=encode_id("Patrol", existing),
                )
            row = t.Patrol(team_id=team_id, grid_id=grid_id, starts_at=starts, ends_at=ends, route=route)
            session.add(row)
            await session.flush()
            session.add_all(t.PatrolMember(patrol_id=row.id, volunteer_id=pk) for pk in ids)
            await _record(session, PATROLS, "Patrol", row, "scheduled")
        shift = await written(ctx, t.Patrol, row.id, patrol)
        return PatrolPayload(patrol=shift, client_mutation_id=input.client_mutation_id)

    @strawberry.mutation(description="调整志愿者服务网格 / move a volunteer to another grid")
    async def assign_volunteer_grid(
        self,
        info: Info,
        input: Annotated[AssignVolunteerGridInput, strawberry.argument(description="调整 / the new grid")],
    ) -> VolunteerPayload:
        ctx = info.context
        pk = inputs.pk(str(input.volunteer_id), "Volunteer", "input.volunteerId")
        grid_id = await _grid(ctx, "assignVolunteerGrid", input.grid_id)
        async with transaction(ctx, "volunteer") as session:
            row = await row_to_change(
                ctx, session, "assignVolunteerGrid", t.Volunteer, "Volunteer", input.volunteer_id, "input.volunteerId"
            )
            if row.grid_id != grid_id:
                row.grid_id = grid_id
                await _record(session, VOLUNTEERS, "Volunteer", row, "reassigned")
        return await _volunteer_payload(ctx, pk, input.client_mutation_id)
