"""Live changes to the caller's tasks: every event about a record in its area that it may see
and that one of its kinds of task is about, read afresh as the caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from gateway.data import encode_id
from gateway.kernel import Info
from resolvers.tasks.kinds import GATE, kinds_of
from resolvers.tasks.reading import task_for, visible
from resolvers.tasks.streams import merge
from resolvers.tasks.types import TaskEvent


@strawberry.type
class TaskSubscription:
    @strawberry.subscription(
        description="待办推送(新增、变更或已办结) / your tasks as they appear, change or are done", metadata=GATE
    )
    async def task_assigned(self, info: Info) -> AsyncGenerator[TaskEvent, None]:
        ctx = info.context
        kinds = kinds_of(ctx)
        if ctx.feed is None or not kinds or ctx.principal.area.grid_ids is None:
            return
        topics = sorted({kind.source.feed for kind in kinds})
        async with aclosing(merge([ctx.feed.events(domain, topic) for domain, topic in topics])) as events:
            async for event in events:
                # Every kind about this event's records (several kinds may read one feed and type).
                about = [
                    k
                    for k in kinds
                    if k.source.feed == (event.domain, event.topic) and k.source.type_name == event.type_name
                ]
                # The area as of this event: a live session may have moved the principal since.
                grids = ctx.principal.area.grid_ids or frozenset()
                if not about or event.grid_id not in grids:
                    continue
                source = about[0].source
                # Each event is read afresh: nothing cached from an earlier one.
                ctx.loaders.clear()
                task = await task_for(ctx, about, event.row_id)
                if task is None and not await visible(ctx, source.model, event.row_id):
                    continue
                subject = encode_id(event.type_name, event.row_id)
                yield TaskEvent(event_id=event.event_id, subject_id=strawberry.ID(subject), task=task)
