"""Which pending records become whose tasks, and how urgent each is: the ranking, in one place.

Most urgent first; within a kind the oldest first (then the lowest record ID):

    100  ALERT_DISPATCHED        a plate alert dispatched to you: the vehicle is on the road now
     90  ALERT_RAISED            a plate alert in your area that no one has been sent to yet
     80  CHECK_IN_FLAGGED        a rental guest who did not check out against the records, still staying
     70  DISPUTE_REPORTED        a dispute reported in your area, not yet accepted
     60  REGISTRATION_PENDING    a registration a grid worker or committee collected, to review
     50  REGISTRATION_RETURNED   a registration the police returned, to correct
     40  DISPUTE_FOLLOW_UP       an agreed or escalated dispute, to visit again
     30  DOG_LICENCE_DECISION    a pre-reviewed dog licence, to decide
     20  DOG_LICENCE_PRE_REVIEW  a dog licence application, to pre-review (初审)

Who gets which: officers every kind but returned registrations (those go back to whoever
collected them); committee staff disputes and returned registrations; grid workers the
disputes reported in their grid and returned registrations. A kind reaches a principal only
when its policy grants the type the task is about, and only records of the principal's own
area (``area.grid_ids``), read through its row scope, become its tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from gateway.auth import Principal
from gateway.kernel import Context
from gateway.policy import Policy
from gateway.schema import SHOWN_WHEN
from resolvers.dispute.tables import Dispute
from resolvers.dispute.types import DisputeCategory
from resolvers.population.tables import DogLicence, GuestCheckIn, Resident
from resolvers.population.types import RegistrationKind
from resolvers.tasks.types import TaskKind
from resolvers.traffic.tables import PlateAlert
from resolvers.traffic.types import AlertKind

OFFICER, COMMITTEE, GRID_WORKER = "community_police", "committee_staff", "grid_worker"


# Which of a table's rows are pending for a principal; None when none can be.
Pending = Callable[[Principal], ColumnElement[bool] | None]


@dataclass(frozen=True)
class Source:
    """A kind of record tasks are about."""

    type_name: str  # its GraphQL type: a principal whose policy lacks it gets no task about it
    model: type[Any]
    since: str  # the column saying when the record became pending
    feed: tuple[str, str]  # (domain, topic) of the events that change it
    code: str | None = None  # a column shown verbatim in titles, such as a case number
    category: tuple[str, type[Enum]] | None = None  # a column shown by its enum value's bilingual name


@dataclass(frozen=True)
class Kind:
    kind: TaskKind
    urgency: int  # each kind its own: a page resumes after (urgency, time, record ID)
    source: Source
    pending: Pending
    action: str  # the verb in the task's ID: Dispute:12:accept
    label: tuple[str, str]  # (中文, English)
    roles: frozenset[str]


def status(model: type[Any], *values: str) -> Pending:
    condition = model.status.in_(values)
    return lambda principal: condition


def dispatched_to(principal: Principal) -> ColumnElement[bool] | None:
    staff = principal.record.staff_id
    if staff is None:
        return None
    return and_(PlateAlert.status == "dispatched", PlateAlert.dispatched_to_staff_id == staff)


def still_flagged(principal: Principal) -> ColumnElement[bool]:
    return and_(GuestCheckIn.flagged == true(), GuestCheckIn.checked_out_at.is_(None))


ALERTS = Source("PlateAlert", PlateAlert, "raised_at", ("traffic", "plateAlert"), category=("kind", AlertKind))
CHECK_INS = Source("GuestCheckIn", GuestCheckIn, "checked_in_at", ("population", "checkIn"))
DISPUTES = Source(
    "Dispute", Dispute, "reported_at", ("dispute", "dispute"), code="code", category=("category", DisputeCategory)
)
REGISTRATIONS = Source(
    "Resident", Resident, "registered_at", ("population", "resident"), category=("registration_kind", RegistrationKind)
)
DOG_LICENCES = Source("DogLicence", DogLicence, "applied_at", ("population", "dogLicence"))

POLICE = frozenset({OFFICER})
COLLECTORS = frozenset({COMMITTEE, GRID_WORKER})

KINDS: tuple[Kind, ...] = (
    Kind(TaskKind.ALERT_DISPATCHED, 100, ALERTS, dispatched_to, "intercept",
         ("拦截预警车辆", "intercept the vehicle of plate alert"), POLICE),
    Kind(TaskKind.ALERT_RAISED, 90, ALERTS, status(PlateAlert, "raised"), "dispatch",
         ("指派号牌预警", "dispatch plate alert"), POLICE),
    Kind(TaskKind.CHECK_IN_FLAGGED, 80, CHECK_INS, still_flagged, "verify",
         ("核查网约房入住人员", "verify a flagged rental guest"), POLICE),
    Kind(TaskKind.DISPUTE_REPORTED, 70, DISPUTES, status(Dispute, "reported"), "accept",
         ("纠纷待受理", "dispute awaiting acceptance"), POLICE | COLLECTORS),
    Kind(TaskKind.REGISTRATION_PENDING, 60, REGISTRATIONS, status(Resident, "pending_review"), "review",
         ("审核人口登记", "review a registration"), POLICE),
    Kind(TaskKind.REGISTRATION_RETURNED, 50, REGISTRATIONS, status(Resident, "returned"), "correct",
         ("补正退回的登记", "correct a returned registration"), COLLECTORS),
    Kind(TaskKind.DISPUTE_FOLLOW_UP, 40, DISPUTES, status(Dispute, "agreed", "escalated"), "follow_up",
         ("回访纠纷", "follow up dispute"), frozenset({OFFICER, COMMITTEE})),
    Kind(TaskKind.DOG_LICENCE_DECISION, 30, DOG_LICENCES, status(DogLicence, "pre_reviewed"), "decide",
         ("审批犬证", "decide a dog licence"), POLICE),
    Kind(TaskKind.DOG_LICENCE_PRE_REVIEW, 20, DOG_LICENCES, status(DogLicence, "applied"), "pre_review",
         ("初审犬证", "pre-review a dog licence"), POLICE),
)  # fmt: skip


def kinds_for(role: str | None, policy: Policy | None) -> tuple[Kind, ...]:
    """The kinds addressed to ``role`` about types ``policy`` grants (all of them, unenforced)."""

    def granted(kind: Kind) -> bool:
        return policy is None or not policy.enforce or policy.rule(kind.source.type_name) is not None

    return tuple(k for k in KINDS if role in k.roles and granted(k))


def role_of(policy: Policy) -> str | None:
    """``role:grid_worker`` → grid_worker; a partner's set of scopes has no role."""
    kind, _, name = policy.name.partition(":")
    return name if kind == "role" else None


def has_tasks(policy: Policy) -> bool:
    return bool(kinds_for(role_of(policy), policy))


def kinds_of(ctx: Context) -> tuple[Kind, ...]:
    """The kinds of task the caller gets."""
    role = ctx.principal.role if ctx.principal.record.kind == "staff" else None
    return kinds_for(role, ctx.policy)


# myTasks and taskAssigned exist exactly for those who get some kind of task.
GATE: dict[str, object] = {SHOWN_WHEN: has_tasks}
