"""Order inputs of the volunteer domain's connections: one key each, ties broken by ID."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import newest_key, sort_key


@strawberry.input(description="排序(一个键,同值按标识) / order of Volunteer items: one key, ties by ID")
class VolunteerOrder:
    id: SortDirection | None = newest_key()
    joined_on: SortDirection | None = sort_key("Volunteer.joinedOn", "按加入日期 / by joining date")
    status: SortDirection | None = sort_key("Volunteer.status", "按状态 / by status")


@strawberry.input(
    description="VolunteerTeam 排序(一个键,同值按标识) / order of VolunteerTeam items: one key, ties by ID"
)
class VolunteerTeamOrder:
    id: SortDirection | None = newest_key()
    name: SortDirection | None = sort_key("VolunteerTeam.name", "按名称 / by name")
    founded_on: SortDirection | None = sort_key("VolunteerTeam.foundedOn", "按成立日期 / by founding date")


@strawberry.input(description="排序(一个键,同值按标识) / order of Patrol items: one key, ties by ID")
class PatrolOrder:
    id: SortDirection | None = newest_key()
    starts_at: SortDirection | None = sort_key("Patrol.startsAt", "按开始时间 / by start time")
