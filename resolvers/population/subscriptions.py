"""Live resident changes, filtered by area and by what the subscriber may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.feed import AfterEvent, watch
from gateway.kernel import Info
from gateway.schema import REQUIRES
from resolvers.grid.area import AreaArg, grid_ids_in
from resolvers.population import tables as t
from resolvers.population.types import Resident, resident


@strawberry.type(description="居民变更事件 / a change to a resident's record")
class ResidentEvent:
    event_id: str = strawberry.field(description="事件号(断线重连时传回) / event ID, to resume after it")
    kind: str = strawberry.field(
        description="变更(registered/updated/active/returned/household_changed/moved_out) / what happened"
    )
    resident: Resident = strawberry.field(description="居民(按您的权限) / the resident, as you may see it")


@strawberry.type
class PopulationSubscription:
    @strawberry.subscription(
        description="居民变更推送 / residents as their records change, in your area", metadata={REQUIRES: ["Resident"]}
    )
    async def resident_changed(
        self,
        info: Info,
        area: AreaArg = None,
        after_event: AfterEvent = None,
    ) -> AsyncGenerator[ResidentEvent, None]:
        grids = await grid_ids_in(info.context, area)
        async for event, row in watch(info.context, "population", "resident", t.Resident, resident, after_event, grids):
            yield ResidentEvent(event_id=event.event_id, kind=event.kind, resident=row)
