"""Dispute domain (矛盾纠纷): disputes, parties, mediation, agreements, follow-ups."""

from __future__ import annotations

from gateway.node import node_fetcher
from gateway.registry import Domain
from resolvers.dispute import tables as t
from resolvers.dispute import types
from resolvers.dispute.queries import DisputeQuery

DOMAIN = Domain(
    name="dispute",
    metadata=t.DisputeBase.metadata,
    query=DisputeQuery,
    nodes={
        "Dispute": node_fetcher(t.Dispute, types.Dispute),
        "DisputeParty": node_fetcher(t.DisputeParty, types.DisputeParty),
        "Mediator": node_fetcher(t.Mediator, types.Mediator),
        "MediationSession": node_fetcher(t.MediationSession, types.MediationSession),
        "Agreement": node_fetcher(t.Agreement, types.Agreement),
        "FollowUp": node_fetcher(t.FollowUp, types.FollowUp),
    },
)
