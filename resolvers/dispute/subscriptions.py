"""Live dispute changes, filtered by area and by what the subscriber may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.feed import AfterEvent, watch
from gateway.kernel import Info
from gateway.schema import REQUIRES
from resolvers.dispute import tables as t
from resolvers.dispute.types import Dispute, dispute
from resolvers.grid.area import AreaArg, grid_ids_in


@strawberry.type(description="纠纷变更事件 / a change to a dispute")
class DisputeEvent:
    event_id: str = strawberry.field(description="事件号(断线重连时传回) / event ID, to resume after it")
    kind: str = strawberry.field(description="变更(reported/accepted/…) / what happened")
    dispute: Dispute = strawberry.field(description="纠纷(按您的权限) / the dispute, as you may see it")


@strawberry.type
class DisputeSubscription:
    @strawberry.subscription(
        description="纠纷变更推送 / disputes as they change, in your area", metadata={REQUIRES: ["Dispute"]}
    )
    async def dispute_updated(
        self,
        info: Info,
        area: AreaArg = None,
        after_event: AfterEvent = None,
    ) -> AsyncGenerator[DisputeEvent, None]:
        grids = await grid_ids_in(info.context, area)
        async for event, row in watch(info.context, "dispute", "dispute", t.Dispute, dispute, after_event, grids):
            yield DisputeEvent(event_id=event.event_id, kind=event.kind, dispute=row)
