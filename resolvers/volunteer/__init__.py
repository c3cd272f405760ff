"""Volunteer domain (群防群治): branded teams, volunteers, patrols."""

from __future__ import annotations

from gateway.kernel import Domain
from resolvers.volunteer import tables as t
from resolvers.volunteer import types
from resolvers.volunteer.mutations import VolunteerMutation
from resolvers.volunteer.queries import VolunteerQuery
from resolvers.volunteer.subscriptions import VolunteerSubscription

DOMAIN = Domain(
    name="volunteer",
    metadata=t.VolunteerBase.metadata,
    query=VolunteerQuery,
    mutation=VolunteerMutation,
    subscription=VolunteerSubscription,
    outbox=t.VolunteerOutbox,
    types={
        "Volunteer": (t.Volunteer, types.Volunteer),
        "VolunteerTeam": (t.VolunteerTeam, types.VolunteerTeam),
        "Patrol": (t.Patrol, types.Patrol),
    },
)
