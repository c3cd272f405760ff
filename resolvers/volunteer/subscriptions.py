"""Live volunteer and patrol changes, filtered by area and by what the subscriber may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.feed import AfterEvent, watch
from gateway.kernel import Info
from gateway.schema import REQUIRES
from resolvers.grid.area import AreaArg, grid_ids_in
from resolvers.volunteer import tables as t
from resolvers.volunteer.mutations import PATROLS, VOLUNTEERS
from resolvers.volunteer.types import Patrol, Volunteer, patrol, volunteer


@strawberry.type(description="志愿者变更事件 / a change to a volunteer")
class VolunteerEvent:
    event_id: str = strawberry.field(description="事件号(断线重连时传回) / event ID, to resume after it")
    kind: str = strawberry.field(description="变更(enrolled/updated/reassigned/transferred) / what happened")
    volunteer: Volunteer = strawberry.field(description="志愿者(按您的权限) / the volunteer, as you may see them")


@strawberry.type(description="巡逻排班事件 / a patrol shift scheduled")
class PatrolEvent:
    event_id: str = strawberry.field(description="事件号(断线重连时传回) / event ID, to resume after it")
    kind: str = strawberry.field(description="变更(scheduled) / what happened")
    patrol: Patrol = strawberry.field(description="巡逻班次(按您的权限) / the patrol shift, as you may see it")


@strawberry.type
class VolunteerSubscription:
    @strawberry.subscription(
        description="志愿者变更推送 / volunteers as they enrol or move, in your area",
        metadata={REQUIRES: ["Volunteer"]},
    )
    async def volunteer_changed(
        self, info: Info, area: AreaArg = None, after_event: AfterEvent = None
    ) -> AsyncGenerator[VolunteerEvent, None]:
        grids = await grid_ids_in(info.context, area)
        async for event, row in watch(
            info.context, "volunteer", VOLUNTEERS, t.Volunteer, volunteer, after_event, grids
        ):
            yield VolunteerEvent(event_id=event.event_id, kind=event.kind, volunteer=row)

    @strawberry.subscription(
        description="巡逻排班推送 / patrol shifts as they are scheduled, in your area", metadata={REQUIRES: ["Patrol"]}
    )
    async def patrol_scheduled(
        self, info: Info, area: AreaArg = None, after_event: AfterEvent = None
    ) -> AsyncGenerator[PatrolEvent, None]:
        grids = await grid_ids_in(info.context, area)
        async for event, row in watch(info.context, "volunteer", PATROLS, t.Patrol, patrol, after_event, grids):
            yield PatrolEvent(event_id=event.event_id, kind=event.kind, patrol=row)
