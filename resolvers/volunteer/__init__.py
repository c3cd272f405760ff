"""Volunteer domain (群防群治): branded teams, volunteers, patrols."""

from __future__ import annotations

from gateway.registry import Domain
from resolvers.volunteer import tables as t
from resolvers.volunteer import types
from resolvers.volunteer.queries import VolunteerQuery

DOMAIN = Domain(
    name="volunteer",
    metadata=t.VolunteerBase.metadata,
    query=VolunteerQuery,
    outbox=t.VolunteerOutbox,
    types={
        "Volunteer": (t.Volunteer, types.Volunteer),
        "VolunteerTeam": (t.VolunteerTeam, types.VolunteerTeam),
        "Patrol": (t.Patrol, types.Patrol),
    },
)
