"""Order inputs of the dispute domain's connections: one key each, ties broken by ID."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import newest_key, sort_key


@strawberry.input(description="排序(一个键,同值按标识) / order of Dispute items: one key, ties by ID")
class DisputeOrder:
    id: SortDirection | None = newest_key()
    reported_at: SortDirection | None = sort_key("Dispute.reportedAt", "按上报时间 / by report time")
    status: SortDirection | None = sort_key("Dispute.status", "按状态 / by status")
    code: SortDirection | None = sort_key("Dispute.code", "按编号 / by code")
    category: SortDirection | None = sort_key("Dispute.category", "按类别 / by category")


@strawberry.input(description="排序(一个键,同值按标识) / order of Mediator items: one key, ties by ID")
class MediatorOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Mediator.name", "按姓名 / by name")
    kind: SortDirection | None = sort_key("Mediator.kind", "按类型 / by kind")
