"""What the traffic domain adds to rules other domains own: its term of a grid's risk score
(分色预警) and its kinds of task (警务通工作提示)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_

from gateway.auth import Principal
from resolvers.grid.risk import RISK, RiskTerm
from resolvers.tasks.kinds import POLICE, TASKS, Kind, Source, status
from resolvers.tasks.types import TaskKind
from resolvers.traffic.tables import PlateAlert
from resolvers.traffic.types import AlertKind

# Raised or dispatched, not yet intercepted: the vehicle may still be on the road.
OPEN = ("raised", "dispatched")

RISK_TERMS = (RiskTerm(PlateAlert, PlateAlert.raised_at, PlateAlert.status.in_(OPEN), weight=3),)


def _own(state: str) -> Callable[[Principal], ColumnElement[bool] | None]:
    """Alerts in ``state`` whose officer is the principal."""

    def pending(principal: Principal) -> ColumnElement[bool] | None:
        staff = principal.record.staff_id
        if staff is None:
            return None
        return and_(PlateAlert.status == state, PlateAlert.dispatched_to_staff_id == staff)

    return pending


dispatched_to = _own("dispatched")
# Stopped, not yet penalised: the officer who stopped the vehicle decides the violation.
intercepted_by = _own("intercepted")


ALERTS = Source("PlateAlert", PlateAlert, "raised_at", ("traffic", "plateAlert"), category=("kind", AlertKind))

# The most urgent of all: a vehicle on the road now, then one no officer has been sent to.
TASK_KINDS = (
    Kind(TaskKind.ALERT_DISPATCHED, 100, ALERTS, dispatched_to, "intercept",
         ("拦截预警车辆", "intercept the vehicle of plate alert"), POLICE),
    Kind(TaskKind.ALERT_INTERCEPTED, 95, ALERTS, intercepted_by, "penalise",
         ("处理拦截车辆违法行为", "decide the violation of intercepted plate alert"), POLICE),
    Kind(TaskKind.ALERT_RAISED, 90, ALERTS, status(PlateAlert, "raised"), "dispatch",
         ("指派号牌预警", "dispatch plate alert"), POLICE),
)  # fmt: skip

CONTRIBUTIONS: Mapping[str, Sequence[Any]] = {RISK: RISK_TERMS, TASKS: TASK_KINDS}
