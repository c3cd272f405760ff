"""分色预警: a grid's risk colour from what happened in it lately.

Over the 30 days up to now, a grid's score is the sum of weighted counts of records in it, each
term declared by the domain that owns the records (``RiskTerm`` in its ``contributions`` under
``RISK``; today: 2 × open disputes, 1 × escalated disputes once more, 3 × open plate alerts,
2 × flagged rental check-ins). The colour:

    red ≥ 8,  orange ≥ 5,  yellow ≥ 2,  blue below

Each term is counted in its own domain's database (never joined), and only the grid database
is written. A colour is recomputed on two occasions, by one function (``recompute``): the
reactions recompute a grid whenever a record a term counts changes in it, and a schedule
(``SWEEP``, every 15 minutes and once at start) recomputes every grid, so a grid fades as its
window passes with no new events. Every worker runs both; a colour is written only where it
differs from the stored one, by a conditional update, so whichever worker changes it first
writes the one ``riskColour`` event to the grid domain's outbox and the others find nothing to do.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, bindparam, func, select, update

from gateway.data import Databases, among
from gateway.feed import Event, emit
from gateway.kernel import Schedule, load_registry
from resolvers.grid.tables import Grid, GridOutbox

# The name under which a domain contributes its terms (``Domain.contributions``).
RISK = "grid.risk"
WINDOW = timedelta(days=30)
THRESHOLDS = (("red", 8), ("orange", 5), ("yellow", 2))
CALM = "blue"
TOPIC, KIND = "grid", "riskColour"


@dataclass(frozen=True)
class RiskTerm:
    """``weight`` × the rows of ``model`` (which has ``id`` and ``grid_id``) in a grid, dated by
    ``since`` within the window, that meet ``counts``."""

    model: type[Any]
    since: Any  # the column saying when the record was reported, raised or checked in
    counts: ColumnElement[bool]
    weight: int


def colour(score: int) -> str:
    return next((name for name, floor in THRESHOLDS if score >= floor), CALM)


def terms() -> tuple[tuple[str, RiskTerm], ...]:
    """(domain, term) for each term of the score, as the domains contribute them."""
    return load_registry().contributed(RISK)


def _counted(term: RiskTerm, every_grid: bool, postgres: bool) -> Select[Any]:
    """The term's rows per grid (of the grids bound as ``grids``, or of every grid), dated within
    [``start``, ``end``]: kept compiled (Databases.kept), as the reactions to writes run it again and again."""
    model = term.model
    start, end = bindparam("start", None, term.since.type), bindparam("end", None, term.since.type)
    stmt = select(model.grid_id.label("grid_id"), func.count(model.id).label("n")).where(
        term.since >= start, term.since <= end, term.counts
    )
    if not every_grid:
        stmt = stmt.where(among(model.grid_id, "grids", postgres))
    return stmt.group_by(model.grid_id)


def _stored(every_grid: bool, postgres: bool) -> Select[int, str]:
    listed = select(Grid.id, Grid.risk_colour)
    return listed if every_grid else listed.where(among(Grid.id, "grids", postgres))


async def scores(
    databases: Databases, grid_ids: Iterable[int], now: datetime, every_grid: bool = False
) -> dict[int, int]:
    """Each grid's score at ``now``; ``every_grid`` says ``grid_ids`` are all the grids there are
    (counted without a list of ids, which a city's 21,000 grids would make too long)."""
    ids = sorted(set(grid_ids))
    totals = dict.fromkeys(ids, 0)
    for domain, term in terms():
        counted = databases.kept(domain, _counted, term, every_grid, databases.driver(domain) is not None)
        given = {"start": now - WINDOW, "end": now, **({} if every_grid else {"grids": ids})}
        for row in await databases.rows(domain, counted.bound(**given)):
            grid_id, n = row["grid_id"], row["n"]
            if grid_id in totals:
                totals[grid_id] += term.weight * int(n)
    return totals


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    return _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def recompute(
    databases: Databases, grid_ids: Iterable[int] | None, now: datetime | None = None
) -> dict[int, str]:
    """Each grid's colour (of ``grid_ids``, or of every grid for None) by the rule at ``now``
    (default: the present), stored and announced where it changed."""
    # One recompute at a time in this process, so a slower, older count never lands after a newer
    # one; other workers recompute the same events themselves and reach the same colour.
    async with _lock():
        every_grid = grid_ids is None
        listed = databases.kept("grid", _stored, every_grid, databases.driver("grid") is not None)
        given = {} if grid_ids is None else {"grids": sorted(set(grid_ids))}
        rows = await databases.rows("grid", listed.bound(**given))
        stored: dict[int, str] = {row["id"]: row["risk_colour"] for row in rows}
        counted = await scores(databases, stored, now or datetime.now(UTC), every_grid=grid_ids is None)
        colours = {g: colour(s) for g, s in counted.items()}
        changed = [g for g, value in colours.items() if value != stored[g]]
        if changed:
            async with databases.write_session("grid") as session, session.begin():
                for grid_id in changed:
                    value = colours[grid_id]
                    # Changed only where it still differs: two workers recomputing one grid write one event.
                    stmt = update(Grid).where(Grid.id == grid_id, Grid.risk_colour != value).values(risk_colour=value)
                    result = cast(CursorResult[Any], await session.execute(stmt))
                    if result.rowcount:
                        await emit(session, GridOutbox, TOPIC, "Grid", grid_id, grid_id, KIND)
    return colours


async def sweep(databases: Databases, now: datetime) -> None:
    """Every grid's colour at ``now``: what fades a grid whose events have left the window."""
    await recompute(databases, None, now)


SWEEP = Schedule("grid.risk.sweep", timedelta(minutes=15), sweep)


async def react(databases: Databases, events: Sequence[Event]) -> None:
    """Records some term counts changed: their grids' colours may have too (each grid counted once)."""
    grid_ids = {event.grid_id for event in events if event.grid_id is not None}
    if grid_ids:
        await recompute(databases, grid_ids)
