"""Grid domain (网格): places, police grids and their bindings, staff and partner agencies."""

from __future__ import annotations

from strawberry.tools import merge_types

from gateway.kernel import Domain
from resolvers.grid import tables as t
from resolvers.grid import types
from resolvers.grid.queries import GridQuery
from resolvers.grid.risk import SWEEP, react
from resolvers.grid.stats import GridStatsQuery

DOMAIN = Domain(
    name="grid",
    metadata=t.GridBase.metadata,
    query=merge_types("GridQuery", (GridQuery, GridStatsQuery)),
    outbox=t.GridOutbox,
    types={
        "District": (t.District, types.District),
        "Street": (t.Street, types.Street),
        "Community": (t.Community, types.Community),
        "Grid": (t.Grid, types.Grid),
        "PoliceGrid": (t.PoliceGrid, types.PoliceGrid),
        "Staff": (t.Staff, types.Staff),
    },
    # 分色预警: a grid's colour follows its disputes, plate alerts and flagged check-ins.
    reactions={("dispute", "dispute"): react, ("traffic", "plateAlert"): react, ("population", "checkIn"): react},
    # ... and fades as its 30-day window passes with no new events.
    schedules=(SWEEP,),
)
