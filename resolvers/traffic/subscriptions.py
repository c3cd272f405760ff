"""Live plate alerts, filtered by area and by what the subscriber may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.feed import AfterEvent, watch
from gateway.kernel import Info
from gateway.schema import REQUIRES
from resolvers.grid.area import AreaArg, grid_ids_in
from resolvers.traffic import tables as t
from resolvers.traffic.mutations import ALERTS
from resolvers.traffic.types import PlateAlert, plate_alert


@strawberry.type(description="号牌预警事件 / a plate alert raised or moved on")
class PlateAlertEvent:
    event_id: str = strawberry.field(description="事件号(断线重连时传回) / event ID, to resume after it")
    kind: str = strawberry.field(description="变更(raised/dispatched/redispatched/intercepted/closed) / what happened")
    plate_alert: PlateAlert = strawberry.field(description="号牌预警(按您的权限) / the plate alert, as you may see it")


@strawberry.type
class TrafficSubscription:
    @strawberry.subscription(
        description="号牌预警推送(新预警及其指派、拦截、办结) / plate alerts as raised and moved on, in your area",
        metadata={REQUIRES: ["PlateAlert"]},
    )
    async def plate_alert_raised(
        self,
        info: Info,
        area: AreaArg = None,
        after_event: AfterEvent = None,
    ) -> AsyncGenerator[PlateAlertEvent, None]:
        grids = await grid_ids_in(info.context, area)
        async for event, alert in watch(info.context, "traffic", ALERTS, t.PlateAlert, plate_alert, after_event, grids):
            yield PlateAlertEvent(event_id=event.event_id, kind=event.kind, plate_alert=alert)
