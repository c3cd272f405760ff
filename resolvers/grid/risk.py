"""分色预警: a grid's risk colour from what happened in it lately. The rule, in one place.

Over the 30 days up to now (each record dated by when it was reported, raised or checked in):

    score = 2 × open disputes             reported, accepted, mediating or escalated
          + 1 × escalated disputes        once more: they went beyond the community
          + 3 × open plate alerts         raised or dispatched, not yet intercepted
          + 2 × flagged rental check-ins

    red ≥ 8,  orange ≥ 5,  yellow ≥ 2,  blue below

So four open disputes make a grid red; an open alert and an open dispute, orange; one
flagged check-in, yellow. Each input is counted in its own domain's database (the dispute,
traffic and population databases, never joined), and only the grid database is written.
Reactions recompute a grid whenever a dispute, plate alert or check-in in it changes; a
colour that changes writes a ``riskColour`` event to the grid domain's outbox.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, select, true, update

from gateway.data import Databases
from gateway.feed import Event, emit
from resolvers.grid.tables import Grid, GridOutbox

WINDOW = timedelta(days=30)
OPEN_DISPUTE, ESCALATED_DISPUTE, OPEN_ALERT, FLAGGED_CHECK_IN = 2, 1, 3, 2
THRESHOLDS = (("red", 8), ("orange", 5), ("yellow", 2))
CALM = "blue"
OPEN_STATUSES = ("reported", "accepted", "mediating", "escalated")
TOPIC, KIND = "grid", "riskColour"


def colour(score: int) -> str:
    return next((name for name, floor in THRESHOLDS if score >= floor), CALM)


def _counted(model: Any, since: Any, start: datetime, end: datetime, grid_ids: list[int]) -> Select[Any]:
    """Rows of ``model`` per grid, dated within [start, end]; the caller adds what makes one count."""
    return (
        select(model.grid_id, func.count(model.id))
        .where(model.grid_id.in_(grid_ids), since >= start, since <= end)
        .group_by(model.grid_id)
    )


def _inputs(grid_ids: list[int], start: datetime, end: datetime) -> list[tuple[str, Select[Any], int]]:
    """(domain, grouped count, weight) for each term of the score."""
    # Imported late: these domains' packages import the grid domain's.
    from resolvers.dispute.tables import Dispute
    from resolvers.population.tables import GuestCheckIn
    from resolvers.traffic.tables import PlateAlert

    disputes = _counted(Dispute, Dispute.reported_at, start, end, grid_ids)
    alerts = _counted(PlateAlert, PlateAlert.raised_at, start, end, grid_ids)
    check_ins = _counted(GuestCheckIn, GuestCheckIn.checked_in_at, start, end, grid_ids)
    return [
        ("dispute", disputes.where(Dispute.status.in_(OPEN_STATUSES)), OPEN_DISPUTE),
        ("dispute", disputes.where(Dispute.status == "escalated"), ESCALATED_DISPUTE),
        ("traffic", alerts.where(PlateAlert.status.in_(("raised", "dispatched"))), OPEN_ALERT),
        ("population", check_ins.where(GuestCheckIn.flagged == true()), FLAGGED_CHECK_IN),
    ]


async def scores(databases: Databases, grid_ids: Iterable[int], now: datetime) -> dict[int, int]:
    ids = sorted(set(grid_ids))
    totals = dict.fromkeys(ids, 0)
    for domain, stmt, weight in _inputs(ids, now - WINDOW, now):
        async with databases.session(domain) as session:
            for grid_id, n in (await session.execute(stmt)).all():
                totals[grid_id] += weight * int(n)
    return totals


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    return _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def recompute(databases: Databases, grid_ids: Iterable[int], now: datetime | None = None) -> dict[int, str]:
    """Each grid's colour by the rule at ``now`` (default: the present), stored where it changed."""
    # One recompute at a time in this process, so a slower, older count never lands after a newer
    # one; other workers recompute the same events themselves and reach the same colour.
    async with _lock():
        colours = {g: colour(s) for g, s in (await scores(databases, grid_ids, now or datetime.now(UTC))).items()}
        async with databases.session("grid") as session, session.begin():
            for grid_id, value in colours.items():
                # Changed only where it differs: two workers reacting to one event write one event.
                stmt = update(Grid).where(Grid.id == grid_id, Grid.risk_colour != value).values(risk_colour=value)
                changed = cast(CursorResult[Any], await session.execute(stmt))
                if changed.rowcount:
                    await emit(session, GridOutbox, TOPIC, "Grid", grid_id, grid_id, KIND)
    return colours


async def react(databases: Databases, event: Event) -> None:
    """A dispute, plate alert or check-in changed: its grid's colour may have too."""
    if event.grid_id is not None:
        await recompute(databases, [event.grid_id])
