"""Dispute domain (矛盾纠纷): disputes, parties, mediation, agreements, follow-ups."""

from __future__ import annotations

from gateway.registry import Domain
from resolvers.dispute import tables as t
from resolvers.dispute import types
from resolvers.dispute.queries import DisputeQuery

DOMAIN = Domain(
    name="dispute",
    metadata=t.DisputeBase.metadata,
    query=DisputeQuery,
    types={
        "Dispute": (t.Dispute, types.Dispute),
        "DisputeParty": (t.DisputeParty, types.DisputeParty),
        "Mediator": (t.Mediator, types.Mediator),
        "MediationSession": (t.MediationSession, types.MediationSession),
        "Agreement": (t.Agreement, types.Agreement),
        "FollowUp": (t.FollowUp, types.FollowUp),
    },
)
