"""Population workflow mutations: registration and review, household and temporary-stay changes,
dog licences, and guest check-ins at short-term rentals — one module each, merged here."""

from __future__ import annotations

from strawberry.tools import merge_types

from resolvers.population.check_in import CheckInMutation
from resolvers.population.check_out import CheckOutMutation
from resolvers.population.licences import DogLicenceMutation
from resolvers.population.registration import RegistrationMutation

PopulationMutation = merge_types(
    "PopulationMutation", (RegistrationMutation, DogLicenceMutation, CheckInMutation, CheckOutMutation)
)
