"""Dispute domain (矛盾纠纷): disputes, parties, mediation, agreements, follow-ups."""

from __future__ import annotations

from strawberry.tools import merge_types

from gateway.kernel import Domain
from resolvers.dispute import tables as t
from resolvers.dispute import types
from resolvers.dispute.contributed import CONTRIBUTIONS
from resolvers.dispute.mutations import DisputeMutation
from resolvers.dispute.queries import DisputeQuery
from resolvers.dispute.stats import DisputeStatsQuery
from resolvers.dispute.subscriptions import DisputeSubscription

DOMAIN = Domain(
    name="dispute",
    metadata=t.DisputeBase.metadata,
    query=merge_types("DisputeQuery", (DisputeQuery, DisputeStatsQuery)),
    mutation=DisputeMutation,
    subscription=DisputeSubscription,
    outbox=t.DisputeOutbox,
    types={
        "Dispute": (t.Dispute, types.Dispute),
        "DisputeParty": (t.DisputeParty, types.DisputeParty),
        "Mediator": (t.Mediator, types.Mediator),
        "MediationSession": (t.MediationSession, types.MediationSession),
        "Agreement": (t.Agreement, types.Agreement),
        "FollowUp": (t.FollowUp, types.FollowUp),
    },
    contributions=CONTRIBUTIONS,
)
