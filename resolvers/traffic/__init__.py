"""Traffic domain (交管): vehicles, captures, plate alerts, violations."""

from __future__ import annotations

from gateway.node import node_fetcher
from gateway.registry import Domain
from resolvers.traffic import tables as t
from resolvers.traffic import types
from resolvers.traffic.queries import TrafficQuery

DOMAIN = Domain(
    name="traffic",
    metadata=t.TrafficBase.metadata,
    query=TrafficQuery,
    nodes={
        "Vehicle": node_fetcher(t.Vehicle, types.Vehicle),
        "Capture": node_fetcher(t.Capture, types.Capture),
        "PlateAlert": node_fetcher(t.PlateAlert, types.PlateAlert),
        "Violation": node_fetcher(t.Violation, types.Violation),
    },
)
