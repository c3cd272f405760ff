"""GraphQL types of the dispute domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.compile import PLAN, Link, Many
from gateway.data import DateRange, load_each, load_many, load_one
from gateway.kernel import Info
from gateway.policy import OUTSIDE
from gateway.schema import TESTS, Node, from_row
from resolvers.dispute import tables as t
from resolvers.grid.area import AreaFilter
from resolvers.grid.lookups import grid_by_id, staff_by_id
from resolvers.grid.types import Grid, Staff

if TYPE_CHECKING:
    from resolvers.population.types import Resident

ResidentT = Annotated["Resident", strawberry.lazy("resolvers.population.types")]


@strawberry.enum(description="纠纷类别 / dispute category")
class DisputeCategory(Enum):
    NEIGHBOUR = strawberry.enum_value("neighbour", description="邻里纠纷 / between neighbours")
    NOISE = strawberry.enum_value("noise", description="噪音扰民 / noise")
    PROPERTY_DAMAGE = strawberry.enum_value("property_damage", description="财产损害(如漏水) / property damage")
    FAMILY = strawberry.enum_value("family", description="家庭纠纷 / family")
    TENANCY = strawberry.enum_value("tenancy", description="租赁纠纷 / tenancy")
    OTHER = strawberry.enum_value("other", description="其他 / other")


@strawberry.enum(description="纠纷状态 / dispute status")
class DisputeStatus(Enum):
    REPORTED = strawberry.enum_value("reported", description="已上报 / reported")
    ACCEPTED = strawberry.enum_value("accepted", description="已受理 / accepted")
    MEDIATING = strawberry.enum_value("mediating", description="调解中 / being mediated")
    AGREED = strawberry.enum_value("agreed", description="达成协议 / agreement reached")
    ESCALATED = strawberry.enum_value("escalated", description="移交司法所或诉讼 / escalated")
    FOLLOWED_UP = strawberry.enum_value("followed_up", description="已回访 / followed up")
    CLOSED = strawberry.enum_value("closed", description="已结案 / closed")


@strawberry.enum(description="调解方式 / mediation mode")
class MediationMode(Enum):
    FACE_TO_FACE = strawberry.enum_value("face_to_face", description="面对面 / face to face")
    SEPARATE = strawberry.enum_value("separate", description="背对背 / parties seen separately")


@strawberry.enum(description="当事人角色 / party role")
class PartyRole(Enum):
    COMPLAINANT = strawberry.enum_value("complainant", description="申请人 / complainant")
    RESPONDENT = strawberry.enum_value("respondent", description="被申请人 / respondent")


@strawberry.input(description="纠纷筛选 / dispute filter")
class DisputeFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    status: list[DisputeStatus] | None = strawberry.field(
        default=None, description="状态(任一) / any of these", metadata={TESTS: ["Dispute.status"]}
    )
    category: DisputeCategory | None = strawberry.field(
        default=None, description="类别 / category", metadata={TESTS: ["Dispute.category"]}
    )
    reported: DateRange | None = strawberry.field(
        default=None, description="上报日期 / date reported", metadata={TESTS: ["Dispute.reportedAt"]}
    )
    search: str | None = strawberry.field(
        default=None,
        description="标题或编号包含 / title or code contains",
        metadata={TESTS: ["Dispute.title", "Dispute.code"]},
    )
    party_name: str | None = strawberry.field(
        default=None,
        description="当事人姓名包含(仅限可明文读取的姓名) / a party's name contains (names read in clear only)",
        metadata={TESTS: ["DisputeParty.name"]},
    )


# The resident detail behind each of a party's fields.
PARTY_DETAILS = {"name": "name", "phone": "phone", "id_number": "idNumber"}


@strawberry.type(description="纠纷当事人 / party to a dispute")
class DisputeParty(Node):
    """A party who is a registered resident is a link to the resident record: their name, phone and
    ID number are read from it (``resolvers.population.contacts``), so a change to the record
    shows in every dispute they are party to. Anyone else is a party by the details given."""

    role: PartyRole = strawberry.field(description="角色 / role")
    # The details given for a party who is not a registered resident (None for a linked one).
    name: strawberry.Private[str | None]
    phone: strawberry.Private[str | None]
    id_number: strawberry.Private[str | None]
    resident_id: strawberry.Private[int | None]

    async def _detail(self, info: Info, column: str, field: str) -> str | None:
        from resolvers.population.contacts import through_link, withheld

        ctx = info.context
        access = "allowed" if ctx.policy is None or not ctx.policy.enforce else ctx.policy.access("DisputeParty", field)
        if access == "own_area_only" and self.__dict__.get(OUTSIDE, False):
            return withheld(info)  # only on disputes inside the reader's own area
        if self.resident_id is None:
            return getattr(self, column)  # type: ignore[no-any-return]
        return await through_link(info, self.resident_id, "DisputeParty", column, PARTY_DETAILS)

    @strawberry.field(name="name", description="姓名(登记居民取自其档案) / full name; a resident's from their record")
    async def name_of(self, info: Info) -> str | None:
        return await self._detail(info, "name", "name")

    @strawberry.field(
        name="phone", description="联系电话(登记居民取自其档案) / phone number; a resident's from their record"
    )
    async def phone_of(self, info: Info) -> str | None:
        return await self._detail(info, "phone", "phone")

    @strawberry.field(
        name="idNumber", description="身份证号(登记居民取自其档案) / citizen ID number; a resident's from their record"
    )
    async def id_number_of(self, info: Info) -> str | None:
        return await self._detail(info, "id_number", "idNumber")

    @strawberry.field(description="居民档案 / the party's resident record", metadata={PLAN: Link("resident_id")})
    async def resident(self, info: Info) -> ResidentT | None:
        from resolvers.population.lookups import resident_by_id

        return await resident_by_id(info.context, self.resident_id)


@strawberry.type(description="调解员 / mediator")
class Mediator(Node):
    name: str = strawberry.field(description="姓名 / full name")
    kind: str = strawberry.field(description="类别(police/grid_worker/peoples_mediator/judicial) / kind")
    organisation: str = strawberry.field(description="所属单位 / organisation")
    phone: str | None = strawberry.field(description="联系电话 / phone number")


@strawberry.type(description="调解记录 / mediation session")
class MediationSession(Node):
    held_at: datetime = strawberry.field(description="时间 / held at")
    mode: MediationMode = strawberry.field(description="方式 / mode")
    location: str = strawberry.field(description="地点 / place")
    notes: str = strawberry.field(description="调解记录 / notes")

    @strawberry.field(description="调解员 / mediators present")
    async def mediators(self, info: Info) -> list[Mediator]:
        links = await load_many(info.context, t.SessionMediator, t.SessionMediator.session_id, self.db_id)
        rows = await load_each(info.context, t.Mediator, [link.mediator_id for link in links])
        return [from_row(Mediator, r) for r in rows]


@strawberry.type(description="调解协议 / mediation agreement")
class Agreement(Node):
    terms: str = strawberry.field(description="协议内容 / terms")
    amount: Decimal | None = strawberry.field(description="金额(元) / amount in yuan")
    signed_at: date = strawberry.field(description="签订日期 / signed on")
    via_judicial_office: bool = strawberry.field(description="经司法所调解 / reached through the judicial office")


@strawberry.type(description="回访 / follow-up visit")
class FollowUp(Node):
    visited_at: datetime = strawberry.field(description="回访时间 / visited at")
    note: str = strawberry.field(description="回访情况 / note")


@strawberry.type(description="矛盾纠纷 / dispute")
class Dispute(Node):
    code: str = strawberry.field(description="编号 / case number")
    title: str = strawberry.field(description="标题 / title")
    category: DisputeCategory = strawberry.field(description="类别 / category")
    description: str = strawberry.field(description="情况描述 / description")
    status: DisputeStatus = strawberry.field(description="状态 / status")
    reported_at: datetime = strawberry.field(description="上报时间 / reported at")
    closed_at: datetime | None = strawberry.field(description="结案时间 / closed at")
    version: int = strawberry.field(description="版本号(乐观锁) / record version, for safe updates")
    grid_id: strawberry.Private[int]
    reporter_staff_id: strawberry.Private[int | None]

    @strawberry.field(description="所在网格 / grid", metadata={PLAN: Link("grid_id")})
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)

    @strawberry.field(description="上报人 / staff member who reported it", metadata={PLAN: Link("reporter_staff_id")})
    async def reporter(self, info: Info) -> Staff | None:
        return await staff_by_id(info.context, self.reporter_staff_id)

    @strawberry.field(description="当事人 / parties", metadata={PLAN: Many("dispute_id")})
    async def parties(self, info: Info) -> list[DisputeParty]:
        rows = await load_many(info.context, t.DisputeParty, t.DisputeParty.dispute_id, self.db_id)
        return [from_row(DisputeParty, r) for r in rows]

    @strawberry.field(description="调解记录 / mediation sessions, oldest first", metadata={PLAN: Many("dispute_id")})
    async def sessions(self, info: Info) -> list[MediationSession]:
        rows = await load_many(info.context, t.MediationSession, t.MediationSession.dispute_id, self.db_id)
        return [from_row(MediationSession, r) for r in rows]

    @strawberry.field(description="调解协议 / agreement, if one was reached")
    async def agreement(self, info: Info) -> Agreement | None:
        row = await load_one(info.context, t.Agreement, self.db_id, t.Agreement.dispute_id)
        return None if row is None else from_row(Agreement, row)

    @strawberry.field(description="回访记录 / follow-up visits", metadata={PLAN: Many("dispute_id")})
    async def follow_ups(self, info: Info) -> list[FollowUp]:
        rows = await load_many(info.context, t.FollowUp, t.FollowUp.dispute_id, self.db_id)
        return [from_row(FollowUp, r) for r in rows]


def dispute(row: t.Dispute) -> Dispute:
    return from_row(Dispute, row)
