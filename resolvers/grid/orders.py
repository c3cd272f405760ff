"""Order inputs of the grid domain's connections: one key each, ties broken by ID."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import newest_key, sort_key


@strawberry.input(description="排序(一个键,同值按标识) / order of District items: one key, ties by ID")
class DistrictOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("District.name", "按名称 / by name")
    code: SortDirection | None = sort_key("District.code", "按代码 / by code")


@strawberry.input(description="排序(一个键,同值按标识) / order of Street items: one key, ties by ID")
class StreetOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Street.name", "按名称 / by name")
    code: SortDirection | None = sort_key("Street.code", "按代码 / by code")


@strawberry.input(description="排序(一个键,同值按标识) / order of Community items: one key, ties by ID")
class CommunityOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Community.name", "按名称 / by name")
    code: SortDirection | None = sort_key("Community.code", "按代码 / by code")


@strawberry.input(description="排序(一个键,同值按标识) / order of Grid items: one key, ties by ID")
class GridOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Grid.name", "按名称 / by name")
    code: SortDirection | None = sort_key("Grid.code", "按代码 / by code")
    risk_colour: SortDirection | None = sort_key("Grid.riskColour", "按风险颜色 / by risk colour")


@strawberry.input(description="排序(一个键,同值按标识) / order of PoliceGrid items: one key, ties by ID")
class PoliceGridOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("PoliceGrid.name", "按名称 / by name")
    code: SortDirection | None = sort_key("PoliceGrid.code", "按代码 / by code")


@strawberry.input(description="排序(一个键,同值按标识) / order of staff: one key, ties by ID")
class StaffOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("Staff.name", "按姓名 / by name")
    role: SortDirection | None = sort_key("Staff.role", "按角色 / by role")
