"""Root field of the notice domain."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from gateway.data import After, Connection, First, PageArgs, root_page
from gateway.kernel import Info
from tests.extra_domain import tables as t
from tests.extra_domain.types import Notice, notice


@strawberry.type
class NoticeQuery:
    @strawberry.field(description="社区公告 / notices")
    async def notices(self, info: Info, first: First = None, after: After = None) -> Connection[Notice]:
        page = PageArgs.parse(info.context, first, after)
        return await root_page(info.context, t.Notice, select(t.Notice), page, notice)
