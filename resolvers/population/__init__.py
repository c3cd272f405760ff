"""Population domain (人口): residents, households, temporary stays, rentals, dog licences."""

from __future__ import annotations

from gateway.node import node_fetcher
from gateway.registry import Domain
from resolvers.population import tables as t
from resolvers.population import types
from resolvers.population.queries import PopulationQuery

DOMAIN = Domain(
    name="population",
    metadata=t.PopulationBase.metadata,
    query=PopulationQuery,
    nodes={
        "Resident": node_fetcher(t.Resident, types.Resident),
        "Household": node_fetcher(t.Household, types.Household),
        "TemporaryStay": node_fetcher(t.TemporaryStay, types.TemporaryStay),
        "RentalProperty": node_fetcher(t.RentalProperty, types.RentalProperty),
        "GuestCheckIn": node_fetcher(t.GuestCheckIn, types.GuestCheckIn),
        "DogLicence": node_fetcher(t.DogLicence, types.DogLicence),
    },
)
