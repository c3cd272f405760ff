"""GraphQL types of the notice domain."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import Node, from_row, newest_key, sort_key
from tests.extra_domain import tables as t


@strawberry.type(description="社区公告 / notice on a grid's board")
class Notice(Node):
    title: str = strawberry.field(description="标题 / title")
    body: str = strawberry.field(description="正文 / body")
    contact: str = strawberry.field(description="联系电话 / contact phone")
    grid_id: strawberry.Private[int]


def notice(row: t.Notice) -> Notice:
    return from_row(Notice, row)


@strawberry.input(description="排序 / order of notices")
class NoticeOrder:
    id: SortDirection | None = newest_key()
    title: SortDirection | None = sort_key("Notice.title", "按标题 / by title")
