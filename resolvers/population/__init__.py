"""Population domain (人口): residents, households, temporary stays, rentals, dog licences."""

from __future__ import annotations

from strawberry.tools import merge_types

from gateway.kernel import Domain
from resolvers.population import tables as t
from resolvers.population import types
from resolvers.population.contributed import CONTRIBUTIONS
from resolvers.population.mutations import PopulationMutation
from resolvers.population.queries import PopulationQuery
from resolvers.population.stats import PopulationStatsQuery
from resolvers.population.subscriptions import PopulationSubscription

DOMAIN = Domain(
    name="population",
    metadata=t.PopulationBase.metadata,
    query=merge_types("PopulationQuery", (PopulationQuery, PopulationStatsQuery)),
    mutation=PopulationMutation,
    subscription=PopulationSubscription,
    outbox=t.PopulationOutbox,
    types={
        "Resident": (t.Resident, types.Resident),
        "ResidentRegistration": (t.ResidentRegistration, types.ResidentRegistration),
        "Household": (t.Household, types.Household),
        "TemporaryStay": (t.TemporaryStay, types.TemporaryStay),
        "RentalProperty": (t.RentalProperty, types.RentalProperty),
        "GuestCheckIn": (t.GuestCheckIn, types.GuestCheckIn),
        "DogLicence": (t.DogLicence, types.DogLicence),
    },
    contributions=CONTRIBUTIONS,
)
