"""GraphQL types of the work prompts (警务通工作提示): a task, its kind, and a change to one."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.kernel import Info
from resolvers.grid.lookups import grid_by_id
from resolvers.grid.types import Grid


# The names of the kinds, most urgent first; each kind itself (its urgency, records and roles) is
# declared by the domain owning those records, in its ``contributed.py``.
@strawberry.enum(description="待办类别 / kind of task")
class TaskKind(Enum):
    ALERT_DISPATCHED = strawberry.enum_value(
        "alert_dispatched", description="指派给您的号牌预警,待拦截 / plate alert dispatched to you: intercept it"
    )
    ALERT_INTERCEPTED = strawberry.enum_value(
        "alert_intercepted", description="已拦截的预警车辆,待处罚 / intercepted vehicle: decide the violation"
    )
    ALERT_RAISED = strawberry.enum_value(
        "alert_raised", description="辖区号牌预警,待指派 / plate alert raised in your area: dispatch it"
    )
    CHECK_IN_FLAGGED = strawberry.enum_value(
        "check_in_flagged", description="网约房入住核验异常,待核查 / flagged rental check-in: verify the guest"
    )
    DISPUTE_ESCALATED = strawberry.enum_value(
        "dispute_escalated", description="移交司法所的纠纷,待调解 / dispute escalated to the judicial office to mediate"
    )
    DISPUTE_REPORTED = strawberry.enum_value(
        "dispute_reported", description="新报纠纷,待受理 / reported dispute awaiting acceptance"
    )
    REGISTRATION_TO_REVIEW = strawberry.enum_value(
        "registration_to_review", description="采集的人口登记,待审核 / collected registration awaiting police review"
    )
    REGISTRATION_PENDING = strawberry.enum_value(
        "registration_pending", description="人口登记待审核 / registration awaiting police review"
    )
    REGISTRATION_TO_CORRECT = strawberry.enum_value(
        "registration_to_correct", description="您采集的登记被退回,待补正重报 / your returned registration: correct it"
    )
    REGISTRATION_RETURNED = strawberry.enum_value(
        "registration_returned", description="登记被退回,待补正 / returned registration to correct"
    )
    DISPUTE_TO_MEDIATE = strawberry.enum_value(
        "dispute_to_mediate", description="已受理或调解中的纠纷,待调解 / accepted or ongoing dispute: mediate it"
    )
    DISPUTE_FOLLOW_UP = strawberry.enum_value(
        "dispute_follow_up", description="已达成协议或已移交的纠纷,待回访 / agreed or escalated dispute to follow up"
    )
    DOG_LICENCE_DECISION = strawberry.enum_value(
        "dog_licence_decision", description="犬证已初审,待审批 / pre-reviewed dog licence awaiting the decision"
    )
    DOG_LICENCE_PRE_REVIEW = strawberry.enum_value(
        "dog_licence_pre_review", description="犬证申请,待初审 / dog licence application awaiting pre-review"
    )


@strawberry.type(description="待办事项(警务通工作提示) / a work prompt: something pending in your area")
class Task:
    id: strawberry.ID = strawberry.field(
        description="事项标识(稳定,如 Dispute:12:accept) / stable task ID, e.g. Dispute:12:accept"
    )
    kind: TaskKind = strawberry.field(description="类别 / kind")
    urgency: int = strawberry.field(description="紧急程度(越大越急) / urgency: the higher, the sooner")
    title: str = strawberry.field(description="标题(不含个人信息) / title, without personal data")
    subject_id: strawberry.ID = strawberry.field(description="相关记录的全局标识 / global ID of the record concerned")
    created_at: datetime = strawberry.field(description="事项产生时间 / when the pending item arose")
    grid_id: strawberry.Private[int]

    @strawberry.field(description="所在网格 / grid")
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)


@strawberry.type(description="待办变更推送 / a change to your tasks")
class TaskEvent:
    event_id: str = strawberry.field(description="引起变更的事件号 / ID of the event behind the change")
    subject_id: strawberry.ID = strawberry.field(description="相关记录的全局标识 / global ID of the record concerned")
    task: Task | None = strawberry.field(
        description="该记录当前的待办;为空表示已无需您处理 / the record's task now; null when nothing is left for you"
    )
