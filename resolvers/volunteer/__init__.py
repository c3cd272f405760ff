"""Volunteer domain (群防群治): branded teams, volunteers, patrols."""

from __future__ import annotations

from gateway.node import node_fetcher
from gateway.registry import Domain
from resolvers.volunteer import tables as t
from resolvers.volunteer import types
from resolvers.volunteer.queries import VolunteerQuery

DOMAIN = Domain(
    name="volunteer",
    metadata=t.VolunteerBase.metadata,
    query=VolunteerQuery,
    nodes={
        "Volunteer": node_fetcher(t.Volunteer, types.Volunteer),
        "VolunteerTeam": node_fetcher(t.VolunteerTeam, types.VolunteerTeam),
        "Patrol": node_fetcher(t.Patrol, types.Patrol),
    },
)
