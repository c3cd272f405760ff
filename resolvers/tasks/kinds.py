"""Which pending records become whose tasks, and how urgent each is.

A kind of task is declared by the domain that owns the records it is about (a ``Kind`` in the
domain's ``contributions`` under ``TASKS``); here they are merged into one ranking, most urgent
first, and within a kind the oldest first (then the lowest record ID). Each kind has an urgency
of its own, so a page can resume after (urgency, time, record ID).

A kind reaches a principal only when its role is among the kind's roles (a partner agency: when
its token holds one of the kind's scopes) and its policy grants the type the task is about, and
only records of the principal's own area (``area.grid_ids``), read through its row scope, become
its tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam

from gateway.auth import Principal
from gateway.kernel import Context, load_registry
from gateway.policy import Policy
from gateway.schema import SHOWN_WHEN
from resolvers.tasks.types import TaskKind

# The name under which a domain contributes its kinds of task (``Domain.contributions``).
TASKS = "tasks.kinds"

OFFICER, COMMITTEE, GRID_WORKER = "community_police", "committee_staff", "grid_worker"
POLICE = frozenset({OFFICER})
COLLECTORS = frozenset({COMMITTEE, GRID_WORKER})
# Partner scopes a kind may reach (a judicial office mediating disputes).
MEDIATE = frozenset({"dispute:mediate"})


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
    scopes: frozenset[str] = frozenset()  # partner scopes it reaches, besides the roles


def status(model: type[Any], *values: str) -> Pending:
    # The states are written into the statement's text (the same for every principal): PostgreSQL
    # weighs a state it can see, and so plans the kept statement once rather than on every run.
    states: BindParameter[str] = bindparam("gw_states", list(values), expanding=True, literal_execute=True, unique=True)
    condition = model.status.in_(states)
    return lambda principal: condition


def all_kinds() -> tuple[Kind, ...]:
    """Every domain's kinds of task, most urgent first."""
    return tuple(sorted((kind for _, kind in load_registry().contributed(TASKS)), key=lambda k: -k.urgency))


def kinds_for(role: str | None, policy: Policy | None, scopes: frozenset[str] = frozenset()) -> tuple[Kind, ...]:
    """The kinds addressed to ``role`` (or to one of a partner's ``scopes``) about types ``policy``
    grants (all of them, unenforced)."""

    def granted(kind: Kind) -> bool:
        return policy is None or not policy.enforce or policy.rule(kind.source.type_name) is not None

    return tuple(k for k in all_kinds() if (role in k.roles or k.scopes & scopes) and granted(k))


def role_of(policy: Policy) -> str | None:
    """``role:grid_worker`` → grid_worker; a partner's set of scopes has no role."""
    kind, _, name = policy.name.partition(":")
    return name if kind == "role" else None


def scopes_of(policy: Policy) -> frozenset[str]:
    """``scopes:dispute:mediate+dispute:read`` → those scopes; a role's policy has none."""
    kind, _, names = policy.name.partition(":")
    return frozenset(names.split("+")) if kind == "scopes" and names else frozenset()


def has_tasks(policy: Policy) -> bool:
    return bool(kinds_for(role_of(policy), policy, scopes_of(policy)))


def kinds_of(ctx: Context) -> tuple[Kind, ...]:
    """The kinds of task the caller gets."""
    if ctx.principal.record.kind == "staff":
        return kinds_for(ctx.principal.role, ctx.policy)
    return kinds_for(None, ctx.policy, frozenset(ctx.principal.scopes))


# myTasks and taskAssigned exist exactly for those who get some kind of task.
GATE: dict[str, object] = {SHOWN_WHEN: has_tasks}
