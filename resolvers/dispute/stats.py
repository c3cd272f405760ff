"""Dispute statistics: counts by category and status."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select

from gateway.data import Bucket, DateRange, Dimension, grouped, shown_total, within
from gateway.kernel import Info
from gateway.schema import COUNTS, TESTS
from resolvers.dispute import tables as t
from resolvers.grid.area import AreaFilter, in_area


@strawberry.type(description="纠纷统计 / dispute statistics")
class DisputeStats:
    total: int | None = strawberry.field(description="总数(过小不显示) / number of disputes; null when too small")
    by_category: list[Bucket] = strawberry.field(description="按类别 / by category")
    by_status: list[Bucket] = strawberry.field(description="按状态 / by status")


@strawberry.type
class DisputeStatsQuery:
    @strawberry.field(description="纠纷统计(不含明细) / dispute counts, without the rows", metadata={COUNTS: "Dispute"})
    async def dispute_stats(
        self,
        info: Info,
        area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None,
        reported: Annotated[
            DateRange | None,
            strawberry.argument(description="上报日期 / date reported", metadata={TESTS: ["Dispute.reportedAt"]}),
        ] = None,
    ) -> DisputeStats:
        stmt = within(select(t.Dispute), t.Dispute.reported_at, reported, "reported", info.context.settings.zone)
        condition = await in_area(info.context, t.Dispute.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        categories, statuses = await grouped(
            info.context,
            t.Dispute,
            stmt,
            Dimension(t.Dispute.category, "Dispute.category"),
            Dimension(t.Dispute.status, "Dispute.status"),
        )
        return DisputeStats(total=shown_total(info, statuses, "Dispute"), by_category=categories, by_status=statuses)
