"""The caller's own tasks (我的待办)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.data import After, Before, Connection, First, Last, OrderArg
from gateway.kernel import Info
from resolvers.tasks.kinds import GATE
from resolvers.tasks.reading import TaskOrder, page_of_tasks
from resolvers.tasks.types import Task


@strawberry.type
class TaskQuery:
    @strawberry.field(
        description="我的待办(警务通工作提示,急者在前,先到先办) / my tasks: pending work in my area, most urgent first",
        metadata=GATE,
    )
    async def my_tasks(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[TaskOrder | None, OrderArg] = None,
    ) -> Connection[Task]:
        return await page_of_tasks(info.context, first, after, last, before, order_by)
