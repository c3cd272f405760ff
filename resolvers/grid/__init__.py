"""Grid domain (网格): places, police grids and their bindings, staff and partner agencies."""

from __future__ import annotations

from gateway.node import node_fetcher
from gateway.registry import Domain
from resolvers.grid import tables as t
from resolvers.grid import types
from resolvers.grid.queries import GridQuery

DOMAIN = Domain(
    name="grid",
    metadata=t.GridBase.metadata,
    query=GridQuery,
    nodes={
        "District": node_fetcher(t.District, types.District),
        "Street": node_fetcher(t.Street, types.Street),
        "Community": node_fetcher(t.Community, types.Community),
        "Grid": node_fetcher(t.Grid, types.Grid),
        "PoliceGrid": node_fetcher(t.PoliceGrid, types.PoliceGrid),
        "Staff": node_fetcher(t.Staff, types.Staff),
    },
)
