"""Population domain (人口): residents, households, temporary stays, rentals, dog licences."""

from __future__ import annotations

from strawberry.tools import merge_types

from gateway.registry import Domain
from resolvers.population import tables as t
from resolvers.population import types
from resolvers.population.queries import PopulationQuery
from resolvers.population.stats import PopulationStatsQuery

DOMAIN = Domain(
    name="population",
    metadata=t.PopulationBase.metadata,
    query=merge_types("PopulationQuery", (PopulationQuery, PopulationStatsQuery)),
    outbox=t.PopulationOutbox,
    types={
        "Resident": (t.Resident, types.Resident),
        "Household": (t.Household, types.Household),
        "TemporaryStay": (t.TemporaryStay, types.TemporaryStay),
        "RentalProperty": (t.RentalProperty, types.RentalProperty),
        "GuestCheckIn": (t.GuestCheckIn, types.GuestCheckIn),
        "DogLicence": (t.DogLicence, types.DogLicence),
    },
)
