"""Filter inputs shared by every domain."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select

from gateway.data.reads import ColumnLike
from gateway.kernel import BadUserInput
from gateway.kernel.times import day_end, day_start


@strawberry.input(
    description="日期范围(含首尾,网关时区的本地日期) / date range, both ends inclusive, of local dates "
    "(days from local midnight in the gateway's time zone)"
)
class DateRange:
    since: date | None = strawberry.field(default=None, description="起始日期 / first day")
    until: date | None = strawberry.field(default=None, description="截止日期 / last day")


def within(stmt: Select[Any], column: ColumnLike, span: DateRange | None, argument: str, zone: tzinfo) -> Select[Any]:
    """Restrict ``column`` (a timestamp) to the local days of ``span`` in ``zone``; refuse a range
    that ends before it starts."""
    if span is None:
        return stmt
    if span.since and span.until and span.since > span.until:
        raise BadUserInput(f"{argument}: since ({span.since}) is after until ({span.until})", argument=argument)
    if span.since:
        stmt = stmt.where(column >= day_start(span.since, zone))
    if span.until:
        stmt = stmt.where(column < day_end(span.until, zone))
    return stmt


def search_text(value: str | None, argument: str, minimum: int = 1) -> str | None:
    """A trimmed search string, or None; refuses one that is too short or too long to be useful."""
    if value is None:
        return None
    text = value.strip()
    if len(text) < minimum or len(text) > 64:
        raise BadUserInput(f"{argument} must be {minimum} to 64 characters", argument=argument)
    return text


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: ColumnLike, text: str) -> ColumnElement[bool]:
    return column.like(like_pattern(text), escape="\\")
