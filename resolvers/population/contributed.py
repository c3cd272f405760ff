"""What the population domain adds to rules other domains own: its term of a grid's risk score
(分色预警) and its kinds of task (警务通工作提示)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_

from gateway.auth import Principal
from resolvers.grid.risk import RISK, RiskTerm
from resolvers.population.tables import DogLicence, GuestCheckIn, Resident, ResidentRegistration
from resolvers.population.types import RegistrationKind
from resolvers.tasks.kinds import COLLECTORS, POLICE, TASKS, Kind, Source, status
from resolvers.tasks.types import TaskKind

# A flag counts until the police verify or clear it (escalated ones still count).
UNRESOLVED = GuestCheckIn.flag_status.in_(("flagged", "escalated"))
RISK_TERMS = (RiskTerm(GuestCheckIn, GuestCheckIn.checked_in_at, UNRESOLVED, weight=2),)


def still_flagged(principal: Principal) -> ColumnElement[bool]:
    """Flagged and not yet handled by the police, whether or not the guest has left."""
    return GuestCheckIn.flag_status == "flagged"


CHECK_INS = Source("GuestCheckIn", GuestCheckIn, "checked_in_at", ("population", "checkIn"))
REGISTRATIONS = Source(
    "Resident", Resident, "registered_at", ("population", "resident"), category=("registration_kind", RegistrationKind)
)
SUBMITTED = Source(
    "ResidentRegistration",
    ResidentRegistration,
    "submitted_at",
    ("population", "registration"),
    category=("registration_kind", RegistrationKind),
)
RETURNED = Source(
    "ResidentRegistration",
    ResidentRegistration,
    "reviewed_at",
    ("population", "registration"),
    category=("registration_kind", RegistrationKind),
)


def returned_to_collector(principal: Principal) -> ColumnElement[bool] | None:
    """A returned registration is its collector's to correct."""
    staff = principal.record.staff_id
    if staff is None:
        return None
    return and_(ResidentRegistration.status == "returned", ResidentRegistration.collector_staff_id == staff)


DOG_LICENCES = Source("DogLicence", DogLicence, "applied_at", ("population", "dogLicence"))

# Returned registrations go back to whoever collected them; the rest are for the police.
TASK_KINDS = (
    Kind(TaskKind.CHECK_IN_FLAGGED, 80, CHECK_INS, still_flagged, "verify",
         ("核查网约房入住人员", "verify a flagged rental guest"), POLICE),
    Kind(TaskKind.REGISTRATION_TO_REVIEW, 61, SUBMITTED, status(ResidentRegistration, "pending_review"), "review",
         ("审核人口登记", "review a registration"), POLICE),
    Kind(TaskKind.REGISTRATION_PENDING, 60, REGISTRATIONS, status(Resident, "pending_review"), "review",
         ("审核人口登记", "review a registration"), POLICE),
    Kind(TaskKind.REGISTRATION_TO_CORRECT, 51, RETURNED, returned_to_collector, "correct",
         ("补正退回的登记", "correct a returned registration"), COLLECTORS | POLICE),
    Kind(TaskKind.REGISTRATION_RETURNED, 50, REGISTRATIONS, status(Resident, "returned"), "correct",
         ("补正退回的登记", "correct a returned registration"), COLLECTORS),
    Kind(TaskKind.DOG_LICENCE_DECISION, 30, DOG_LICENCES, status(DogLicence, "pre_reviewed"), "decide",
         ("审批犬证", "decide a dog licence"), POLICE),
    Kind(TaskKind.DOG_LICENCE_PRE_REVIEW, 20, DOG_LICENCES, status(DogLicence, "applied"), "pre_review",
         ("初审犬证", "pre-review a dog licence"), POLICE),
)  # fmt: skip

CONTRIBUTIONS: Mapping[str, Sequence[Any]] = {RISK: RISK_TERMS, TASKS: TASK_KINDS}
