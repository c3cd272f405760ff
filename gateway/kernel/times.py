"""Times and dates as the gateway's users live them.

Timestamps are stored in UTC (PostgreSQL ``timestamptz``; SQLite keeps UTC wall-clock text without
a zone, so a naive value read back is UTC). They are shown in the gateway's time zone
(``GATEWAY_TIMEZONE``, default ``Asia/Shanghai``: ``+08:00`` for Tianjin) with their offset, and a
calendar date (a birth date, a filter's day) is a local date: its day runs from local midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import time as clock
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no time zone {name!r} (an IANA name such as Asia/Shanghai)") from None


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is what a database handed back, which is UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` as the clocks of ``zone`` show it, with their offset."""
    return utc(moment).astimezone(zone)


def day_start(day: date, zone: tzinfo) -> datetime:
    """The moment (UTC) the local ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def day_end(day: date, zone: tzinfo) -> datetime:
    """The moment (UTC) the local ``day`` is over: the start of the next one."""
    return day_start(day + timedelta(days=1), zone)


def today(zone: tzinfo) -> date:
    return datetime.now(zone).date()


# The server's date and the moment (seconds since the epoch) it ends: read per row of a page (a
# resident's age), where asking the clock and the zone each time was a noticeable part of the page.
_server_day: tuple[date, float] = (date.min, 0.0)


def server_today() -> date:
    """``date.today()`` (the server's local date), asked of the zone once a day."""
    global _server_day
    day, ends = _server_day
    now = clock()
    if now >= ends or now < ends - 90_000:
        day = date.today()
        _server_day = day, datetime.combine(day + timedelta(days=1), time.min).timestamp()
    return day
