"""Traffic domain (交管): vehicles, captures, plate alerts, violations."""

from __future__ import annotations

from gateway.kernel import Domain
from resolvers.traffic import tables as t
from resolvers.traffic import types
from resolvers.traffic.contributed import CONTRIBUTIONS
from resolvers.traffic.mutations import TrafficMutation
from resolvers.traffic.queries import TrafficQuery
from resolvers.traffic.subscriptions import TrafficSubscription

DOMAIN = Domain(
    name="traffic",
    metadata=t.TrafficBase.metadata,
    query=TrafficQuery,
    mutation=TrafficMutation,
    subscription=TrafficSubscription,
    outbox=t.TrafficOutbox,
    types={
        "Vehicle": (t.Vehicle, types.Vehicle),
        "Capture": (t.Capture, types.Capture),
        "PlateAlert": (t.PlateAlert, types.PlateAlert),
        "Violation": (t.Violation, types.Violation),
    },
    contributions=CONTRIBUTIONS,
)
