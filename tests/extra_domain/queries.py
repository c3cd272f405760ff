"""Root field of the notice domain."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from gateway.data import After, Before, Connection, First, Last, OrderArg, PageArgs, root_page
from gateway.kernel import Info
from tests.extra_domain import tables as t
from tests.extra_domain.types import Notice, NoticeOrder, notice


@strawberry.type
class NoticeQuery:
    @strawberry.field(description="社区公告 / notices")
    async def notices(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[NoticeOrder | None, OrderArg] = None,
    ) -> Connection[Notice]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Notice, select(t.Notice), page, notice)
