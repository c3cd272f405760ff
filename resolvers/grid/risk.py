"""分色预警: a grid's risk colour from what happened in it lately.

Over the 30 days up to now, a grid's score is the sum of weighted counts of records in it, each
term declared by the domain that owns the records (``RiskTerm`` in its ``contributions`` under
``RISK``; today: 2 × open disputes, 1 × escalated disputes once more, 3 × open plate alerts,
2 × flagged rental check-ins). The colour:

    red ≥ 8,  orange ≥ 5,  yellow ≥ 2,  blue below

Each term is counted in its own domain's database (never joined), and only the grid database
is written. Reactions recompute a grid whenever a record a term counts changes in it; a colour
that changes writes a ``riskColour`` event to the grid domain's outbox.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, func, select, update

from gateway.data import Databases
from gateway.feed import Event, emit
from gateway.kernel import load_registry
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


def _counted(term: RiskTerm, start: datetime, end: datetime, grid_ids: list[int]) -> Select[Any]:
    """The term's rows per grid, dated within [start, end]."""
    model = term.model
    return (
        select(model.grid_id, func.count(model.id))
        .where(model.grid_id.in_(grid_ids), term.since >= start, term.since <= end, term.counts)
        .group_by(model.grid_id)
    )


async def scores(databases: Databases, grid_ids: Iterable[int], now: datetime) -> dict[int, int]:
    ids = sorted(set(grid_ids))
    totals = dict.fromkeys(ids, 0)
    for domain, term in terms():
        async with databases.session(domain) as session:
            for grid_id, n in (await session.execute(_counted(term, now - WINDOW, now, ids))).all():
                totals[grid_id] += term.weight * int(n)
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
    """A record some term counts changed: its grid's colour may have too."""
    if event.grid_id is not None:
        await recompute(databases, [event.grid_id])
