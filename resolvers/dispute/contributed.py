"""What the dispute domain adds to rules other domains own: its terms of a grid's risk score
(分色预警) and its kinds of task (警务通工作提示)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from resolvers.dispute.tables import Dispute
from resolvers.dispute.types import DisputeCategory
from resolvers.grid.risk import RISK, RiskTerm
from resolvers.tasks.kinds import COLLECTORS, COMMITTEE, MEDIATE, OFFICER, POLICE, TASKS, Kind, Source, status
from resolvers.tasks.types import TaskKind

# Not yet settled: reported, accepted, in mediation, or escalated beyond the community.
OPEN = ("reported", "accepted", "mediating", "escalated")

RISK_TERMS = (
    RiskTerm(Dispute, Dispute.reported_at, Dispute.status.in_(OPEN), weight=2),
    # Counted once more: it went beyond the community.
    RiskTerm(Dispute, Dispute.reported_at, Dispute.status == "escalated", weight=1),
)

DISPUTES = Source(
    "Dispute", Dispute, "reported_at", ("dispute", "dispute"), code="code", category=("category", DisputeCategory)
)

# Every pending step of a dispute is someone's task in its area: to accept (officers, committees,
# grid workers and the judicial office, which may take a dispute in directly), to mediate once
# accepted or while sessions go on (officers, committees, grid workers, the judicial office), an
# escalated one for the judicial office to mediate again, and agreed or escalated ones to follow up.
TASK_KINDS = (
    Kind(TaskKind.DISPUTE_ESCALATED, 75, DISPUTES, status(Dispute, "escalated"), "mediate_escalated",
         ("移交司法所的纠纷待调解", "escalated dispute to mediate"), frozenset(), MEDIATE),
    Kind(TaskKind.DISPUTE_REPORTED, 70, DISPUTES, status(Dispute, "reported"), "accept",
         ("纠纷待受理", "dispute awaiting acceptance"), POLICE | COLLECTORS, MEDIATE),
    Kind(TaskKind.DISPUTE_TO_MEDIATE, 45, DISPUTES, status(Dispute, "accepted", "mediating"), "mediate",
         ("调解纠纷", "mediate dispute"), POLICE | COLLECTORS, MEDIATE),
    Kind(TaskKind.DISPUTE_FOLLOW_UP, 40, DISPUTES, status(Dispute, "agreed", "escalated"), "follow_up",
         ("回访纠纷", "follow up dispute"), frozenset({OFFICER, COMMITTEE})),
)  # fmt: skip

CONTRIBUTIONS: Mapping[str, Sequence[Any]] = {RISK: RISK_TERMS, TASKS: TASK_KINDS}
