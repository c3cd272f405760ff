"""GraphQL types of the population domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.compile import PLAN, Children, Link, Many
from gateway.data import (
    After,
    Before,
    Connection,
    DateRange,
    First,
    Last,
    OrderArg,
    PageArgs,
    load_many,
    load_one,
    nested_page,
)
from gateway.kernel import Info
from gateway.kernel.times import server_today
from gateway.schema import COMPUTED_FROM, TESTS, Node, from_row
from gateway.write import echoed_client_mutation_id_field
from resolvers.grid.area import AreaFilter
from resolvers.grid.lookups import grid_by_id, staff_by_id
from resolvers.grid.types import Grid, Staff
from resolvers.population import tables as t
from resolvers.population.contacts import through_link
from resolvers.population.orders import GuestCheckInOrder, ResidentOrder

if TYPE_CHECKING:
    from resolvers.dispute.orders import DisputeOrder
    from resolvers.dispute.types import Dispute
    from resolvers.traffic.types import Vehicle
    from resolvers.volunteer.types import Volunteer

DisputeT = Annotated["Dispute", strawberry.lazy("resolvers.dispute.types")]
VehicleT = Annotated["Vehicle", strawberry.lazy("resolvers.traffic.types")]
VolunteerT = Annotated["Volunteer", strawberry.lazy("resolvers.volunteer.types")]
DisputeOrderT = Annotated["DisputeOrder", strawberry.lazy("resolvers.dispute.orders")]


@strawberry.enum(description="性别 / gender")
class Gender(Enum):
    MALE = strawberry.enum_value("male", description="男 / male")
    FEMALE = strawberry.enum_value("female", description="女 / female")


@strawberry.enum(description="户籍类别 / registration kind")
class RegistrationKind(Enum):
    REGISTERED = strawberry.enum_value("registered", description="户籍人口 / registered resident")
    FLOATING = strawberry.enum_value("floating", description="流动人口 / floating population")
    FOREIGN = strawberry.enum_value("foreign", description="境外人员 / foreign national")


@strawberry.enum(description="登记状态 / registration status")
class ResidentStatus(Enum):
    PENDING_REVIEW = strawberry.enum_value("pending_review", description="待民警审核 / awaiting police review")
    ACTIVE = strawberry.enum_value("active", description="有效 / active")
    RETURNED = strawberry.enum_value("returned", description="退回 / returned with a reason")
    MOVED_OUT = strawberry.enum_value("moved_out", description="迁出 / moved out")


@strawberry.enum(description="登记审核状态 / state of a registration")
class RegistrationStatus(Enum):
    PENDING_REVIEW = strawberry.enum_value("pending_review", description="待民警审核 / awaiting police review")
    APPROVED = strawberry.enum_value("approved", description="已通过,已入档 / approved: the record is written")
    RETURNED = strawberry.enum_value("returned", description="退回 / returned with a reason")
    TRANSFER_REVIEW = strawberry.enum_value(
        "transfer_review",
        description="待档案所在地民警审核迁入 / awaiting the police of the area that holds the record",
    )


@strawberry.enum(description="入住核验异常的处置状态 / the police's handling of a flagged check-in")
class CheckInFlagStatus(Enum):
    NONE = strawberry.enum_value("none", description="未推送民警 / never flagged")
    FLAGGED = strawberry.enum_value("flagged", description="已推送,待核查 / flagged: to be handled")
    VERIFIED = strawberry.enum_value("verified", description="民警核实身份 / the officer verified the guest")
    CLEARED = strawberry.enum_value("cleared", description="民警解除(附理由) / cleared by the officer, with a reason")
    ESCALATED = strawberry.enum_value("escalated", description="已上报处置 / escalated for further action")


@strawberry.enum(description="入住核验异常处置 / what the officer does with a flagged check-in")
class CheckInFlagDecision(Enum):
    VERIFY = strawberry.enum_value("verify", description="核实身份 / the guest's identity is verified")
    CLEAR = strawberry.enum_value("clear", description="解除(须附理由) / clear the flag, with a reason")
    ESCALATE = strawberry.enum_value("escalate", description="上报(须附理由) / escalate, with a reason")


@strawberry.input(description="入住登记筛选 / check-in filter")
class GuestCheckInFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    flag_status: list[CheckInFlagStatus] | None = strawberry.field(
        default=None,
        description="处置状态(任一) / any of these handling states",
        metadata={TESTS: ["GuestCheckIn.flagStatus"]},
    )
    checked_in: DateRange | None = strawberry.field(
        default=None, description="入住日期 / date checked in", metadata={TESTS: ["GuestCheckIn.checkedInAt"]}
    )
    staying: bool | None = strawberry.field(
        default=None,
        description="是否在住(未退房) / still staying (not checked out), or checked out",
        metadata={TESTS: ["GuestCheckIn.checkedOutAt"]},
    )


@strawberry.enum(description="犬证申请状态 / dog licence status")
class DogLicenceStatus(Enum):
    APPLIED = strawberry.enum_value("applied", description="已申请 / applied")
    PRE_REVIEWED = strawberry.enum_value("pre_reviewed", description="民警已初审 / pre-reviewed by an officer")
    APPROVED = strawberry.enum_value("approved", description="已批准 / approved")
    REJECTED = strawberry.enum_value("rejected", description="已驳回 / rejected")


@strawberry.input(description="居民筛选 / resident filter")
class ResidentFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    registration_kind: RegistrationKind | None = strawberry.field(
        default=None, description="户籍类别 / registration kind", metadata={TESTS: ["Resident.registrationKind"]}
    )
    status: ResidentStatus | None = strawberry.field(
        default=None, description="登记状态 / status", metadata={TESTS: ["Resident.status"]}
    )
    gender: Gender | None = strawberry.field(
        default=None, description="性别 / gender", metadata={TESTS: ["Resident.gender"]}
    )
    name: str | None = strawberry.field(
        default=None, description="姓名包含 / name contains", metadata={TESTS: ["Resident.name"]}
    )
    id_number: str | None = strawberry.field(
        default=None, description="身份证号(精确) / exact ID number", metadata={TESTS: ["Resident.idNumber"]}
    )
    registered: DateRange | None = strawberry.field(
        default=None, description="登记日期 / registration date range", metadata={TESTS: ["Resident.registeredAt"]}
    )


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@strawberry.type(description="居民 / resident")
class Resident(Node):
    id_number: str = strawberry.field(description="公民身份号码 / citizen ID number (GB 11643)")
    name: str = strawberry.field(description="姓名 / full name")
    gender: Gender = strawberry.field(description="性别 / gender")
    birth_date: date = strawberry.field(description="出生日期 / birth date")
    ethnicity: str = strawberry.field(description="民族 / ethnicity")
    phone: str | None = strawberry.field(description="联系电话 / phone number")
    address: str = strawberry.field(description="居住地址 / home address")
    building: str = strawberry.field(description="楼栋(地址到楼) / address down to the building")
    registration_kind: RegistrationKind = strawberry.field(description="户籍类别 / registration kind")
    status: ResidentStatus = strawberry.field(description="登记状态 / registration status")
    watch_flag: bool = strawberry.field(description="重点关注标记 / on a watch list")
    criminal_flag: bool = strawberry.field(description="前科标记 / has a criminal record")
    registered_at: datetime = strawberry.field(description="登记时间 / registered at")
    review_note: str | None = strawberry.field(
        description="民警审核意见(退回理由) / the police's reason for returning it"
    )
    version: int = strawberry.field(description="版本号(乐观锁) / record version, for safe updates")
    grid_id: strawberry.Private[int]
    household_id: strawberry.Private[int | None]

    @strawberry.field(description="年龄 / age in years", metadata={COMPUTED_FROM: ["birth_date"]})
    def age(self) -> int:
        return age_on(self.birth_date, server_today())

    @strawberry.field(description="年龄段 / age band, e.g. 30-39", metadata={COMPUTED_FROM: ["birth_date"]})
    def age_band(self) -> str:
        return age_band(self.age())

    @strawberry.field(description="所在网格 / grid the resident lives in", metadata={PLAN: Link("grid_id")})
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)

    @strawberry.field(description="所属户 / household", metadata={PLAN: Link("household_id")})
    async def household(self, info: Info) -> Household | None:
        row = await load_one(info.context, t.Household, self.household_id)
        return None if row is None else household(row)

    @strawberry.field(
        description="涉及的矛盾纠纷 / disputes the resident is a party to",
        metadata={PLAN: Children("resident_id", via="DisputeParty", via_key="dispute_id")},
    )
    async def disputes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[DisputeOrderT | None, OrderArg] = None,
    ) -> Connection[DisputeT]:
        from resolvers.dispute.queries import disputes_of_resident

        return await disputes_of_resident(
            info.context, self.db_id, PageArgs.parse(info.context, first, after, last, before, order_by)
        )

    @strawberry.field(description="名下车辆 / vehicles registered to the resident")
    async def vehicles(self, info: Info) -> list[VehicleT]:
        from resolvers.traffic.queries import vehicles_of_owner

        return await vehicles_of_owner(info.context, self.db_id)

    @strawberry.field(description="志愿者档案 / volunteer profile, if the resident volunteers")
    async def volunteer_profile(self, info: Info) -> VolunteerT | None:
        from resolvers.volunteer.queries import volunteer_of_resident

        return await volunteer_of_resident(info.context, self.db_id)

    @strawberry.field(description="暂住登记 / temporary-stay registrations", metadata={PLAN: Many("resident_id")})
    async def temporary_stays(self, info: Info) -> list[TemporaryStay]:
        rows = await load_many(info.context, t.TemporaryStay, t.TemporaryStay.resident_id, self.db_id)
        return [from_row(TemporaryStay, r) for r in rows]

    @strawberry.field(description="犬证申请 / dog licence applications", metadata={PLAN: Many("resident_id")})
    async def dog_licences(self, info: Info) -> list[DogLicence]:
        rows = await load_many(info.context, t.DogLicence, t.DogLicence.resident_id, self.db_id)
        return [from_row(DogLicence, r) for r in rows]


def age_band(age: int) -> str:
    if age < 18:
        return "0-17"
    if age >= 80:
        return "80+"
    low = age // 10 * 10
    return f"{max(low, 18)}-{low + 9}"


@strawberry.type(description="户 / household")
class Household(Node):
    number: str = strawberry.field(description="户号 / household number")
    address: str = strawberry.field(description="户地址 / household address")
    grid_id: strawberry.Private[int]
    head_resident_id: strawberry.Private[int | None]

    @strawberry.field(description="所在网格 / grid")
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)

    @strawberry.field(description="户主 / head of household", metadata={PLAN: Link("head_resident_id")})
    async def head(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.head_resident_id)
        return None if row is None else resident(row)

    @strawberry.field(description="家庭成员 / members of the household", metadata={PLAN: Children("household_id")})
    async def members(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[ResidentOrder | None, OrderArg] = None,
    ) -> Connection[Resident]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(info.context, t.Resident, t.Resident.household_id, self.db_id, page, resident)


@strawberry.type(description="居民登记(待审核) / a registration as collected, for the police to review")
class ResidentRegistration(Node):
    id_number: str = strawberry.field(description="公民身份号码 / citizen ID number (GB 11643)")
    name: str = strawberry.field(description="姓名 / full name")
    gender: Gender = strawberry.field(description="性别 / gender")
    birth_date: date = strawberry.field(description="出生日期 / birth date")
    ethnicity: str | None = strawberry.field(description="民族 / ethnicity, if given")
    phone: str | None = strawberry.field(description="联系电话 / phone number")
    address: str = strawberry.field(description="居住地址 / home address")
    building: str = strawberry.field(description="楼栋(地址到楼) / address down to the building")
    registration_kind: RegistrationKind = strawberry.field(description="户籍类别 / registration kind")
    status: RegistrationStatus = strawberry.field(description="审核状态 / review state")
    submitted_at: datetime = strawberry.field(description="登记时间 / collected at")
    reviewed_at: datetime | None = strawberry.field(description="审核时间 / reviewed at")
    review_note: str | None = strawberry.field(
        description="民警审核意见(退回理由) / the police's reason for returning it"
    )
    version: int = strawberry.field(description="版本号(乐观锁) / version, for a safe review")
    awaits_holder_review: bool = strawberry.field(
        description="同号档案在他区,待其民警审核迁入 / the number is held in another area, whose police decide",
    )
    grid_id: strawberry.Private[int]
    household_id: strawberry.Private[int | None]
    resident_id: strawberry.Private[int | None]
    collector_staff_id: strawberry.Private[int | None]

    @strawberry.field(description="所在网格 / grid")
    async def grid(self, info: Info) -> Grid | None:
        return await grid_by_id(info.context, self.grid_id)

    @strawberry.field(description="采集人 / the staff member who collected it, who corrects it when returned")
    async def collector(self, info: Info) -> Staff | None:
        return await staff_by_id(info.context, self.collector_staff_id)

    @strawberry.field(description="所属户 / household, if given", metadata={PLAN: Link("household_id")})
    async def household(self, info: Info) -> Household | None:
        row = await load_one(info.context, t.Household, self.household_id)
        return None if row is None else household(row)

    @strawberry.field(
        description="审核通过后的居民档案 / the resident record it became part of, once approved",
        metadata={PLAN: Link("resident_id")},
    )
    async def resident(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.resident_id)
        return None if row is None else resident(row)

    @strawberry.field(
        description="同号现有档案(审核时对照;仅限可见范围) / the record already holding this ID number, "
        "to compare before approving; null when there is none you may see"
    )
    async def held_by(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.id_number, t.Resident.id_number)
        return None if row is None else resident(row)


@strawberry.type(description="暂住登记 / temporary-stay registration of a floating resident")
class TemporaryStay(Node):
    address: str = strawberry.field(description="暂住地址 / address of the stay")
    reason: str = strawberry.field(description="暂住事由 / reason for the stay")
    start_date: date = strawberry.field(description="起始日期 / first day")
    end_date: date | None = strawberry.field(description="截止日期 / last day")
    resident_id: strawberry.Private[int]

    @strawberry.field(description="暂住人 / the resident staying", metadata={PLAN: Link("resident_id")})
    async def resident(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.resident_id)
        return None if row is None else resident(row)


@strawberry.type(description="犬证申请 / dog licence application")
class DogLicence(Node):
    dog_name: str = strawberry.field(description="犬名 / dog's name")
    breed: str = strawberry.field(description="品种 / breed")
    status: DogLicenceStatus = strawberry.field(description="状态 / status")
    applied_at: datetime = strawberry.field(description="申请时间 / applied at")
    reviewed_at: datetime | None = strawberry.field(description="审核时间 / reviewed at")
    reason: str | None = strawberry.field(description="驳回理由 / reason for rejection")
    resident_id: strawberry.Private[int]

    @strawberry.field(description="申请人 / applicant", metadata={PLAN: Link("resident_id")})
    async def applicant(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.resident_id)
        return None if row is None else resident(row)


# The resident detail behind each of a linked guest's fields.
GUEST_DETAILS = {"name": "guestName", "id_number": "guestIdNumber"}


@strawberry.type(description="网约房入住登记 / guest check-in at a short-term rental")
class GuestCheckIn(Node):
    # As presented, for a guest who matched no resident (None for a linked one).
    guest_name: strawberry.Private[str | None]
    guest_id_number: strawberry.Private[str | None]
    checked_in_at: datetime = strawberry.field(description="入住时间 / checked in at")
    checked_out_at: datetime | None = strawberry.field(description="退房时间 / checked out at")
    verification: str = strawberry.field(
        description="核验结果(verified 一致/mismatch 不符/unverified 本市无档案/pending) / identity check result"
    )
    flagged: bool = strawberry.field(description="是否推送民警 / flagged for police attention")
    flag_status: CheckInFlagStatus = strawberry.field(description="民警处置状态 / the police's handling of the flag")
    flag_note: str | None = strawberry.field(description="处置说明 / the officer's note or reason")
    flag_handled_at: datetime | None = strawberry.field(description="处置时间 / handled at")
    resident_id: strawberry.Private[int | None]
    property_id: strawberry.Private[int]
    flag_handled_by_staff_id: strawberry.Private[int | None]

    @strawberry.field(
        name="guestName", description="住客姓名(登记居民取自其档案) / guest's name; a resident's from their record"
    )
    async def guest_name_of(self, info: Info) -> str | None:
        if self.resident_id is None:
            return self.guest_name
        return await through_link(info, self.resident_id, "GuestCheckIn", "name", GUEST_DETAILS)

    @strawberry.field(
        name="guestIdNumber",
        description="住客身份证号(登记居民取自其档案) / guest's ID number; a resident's from their record",
    )
    async def guest_id_number_of(self, info: Info) -> str | None:
        if self.resident_id is None:
            return self.guest_id_number
        return await through_link(info, self.resident_id, "GuestCheckIn", "id_number", GUEST_DETAILS)

    @strawberry.field(description="网约房 / the rental property")
    async def property(self, info: Info) -> RentalProperty | None:
        row = await load_one(info.context, t.RentalProperty, self.property_id)
        return None if row is None else from_row(RentalProperty, row)

    @strawberry.field(description="处置民警 / the officer who handled the flag")
    async def flag_handled_by(self, info: Info) -> Staff | None:
        return await staff_by_id(info.context, self.flag_handled_by_staff_id)

    @strawberry.field(description="匹配的居民档案 / matching resident record", metadata={PLAN: Link("resident_id")})
    async def resident(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.resident_id)
        return None if row is None else resident(row)


@strawberry.type(description="网约房 / short-term rental property")
class RentalProperty(Node):
    name: str = strawberry.field(description="名称 / name")
    address: str = strawberry.field(description="地址 / address")
    rooms: int = strawberry.field(description="房间数 / number of rooms")
    landlord_id: strawberry.Private[int]
    grid_id: strawberry.Private[int]

    @strawberry.field(description="房东 / landlord", metadata={PLAN: Link("landlord_id")})
    async def landlord(self, info: Info) -> Resident | None:
        row = await load_one(info.context, t.Resident, self.landlord_id)
        return None if row is None else resident(row)

    @strawberry.field(description="入住登记 / guest check-ins, oldest first", metadata={PLAN: Children("property_id")})
    async def check_ins(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[GuestCheckInOrder | None, OrderArg] = None,
    ) -> Connection[GuestCheckIn]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await nested_page(
            info.context,
            t.GuestCheckIn,
            t.GuestCheckIn.property_id,
            self.db_id,
            page,
            lambda row: from_row(GuestCheckIn, row),
        )


def resident(row: t.Resident) -> Resident:
    return from_row(Resident, row)


def household(row: t.Household) -> Household:
    return from_row(Household, row)


@strawberry.enum(description="民警审核结论 / the police's review of a registration")
class ResidentReviewDecision(Enum):
    APPROVE = strawberry.enum_value("approve", description="通过,登记生效 / approve: the record becomes active")
    RETURN = strawberry.enum_value("return", description="退回补正(须说明理由) / return it, with a reason")


@strawberry.enum(description="犬证审核结论 / a dog licence review decision")
class DogLicenceDecision(Enum):
    APPROVE = strawberry.enum_value("approve", description="通过(初审为转审批) / pass on (pre-review) or approve")
    REJECT = strawberry.enum_value("reject", description="驳回(须说明理由) / reject, with a reason")


@strawberry.type(description="居民变更结果 / the resident after the change")
class ResidentPayload:
    resident: Resident | None = strawberry.field(description="居民 / the resident, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="居民登记结果 / the registration, awaiting review")
class ResidentRegistrationPayload:
    registration: ResidentRegistration | None = strawberry.field(
        description="登记 / the registration, as you may see it"
    )
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="暂住登记结果 / the temporary stay registered")
class TemporaryStayPayload:
    temporary_stay: TemporaryStay | None = strawberry.field(description="暂住登记 / the stay, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="犬证申请变更结果 / the dog licence after the change")
class DogLicencePayload:
    dog_licence: DogLicence | None = strawberry.field(description="犬证申请 / the licence, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="入住登记回执(不含核验结果) / a check-in's receipt, silent on the identity check")
class CheckInReceipt:
    check_in_id: strawberry.ID = strawberry.field(description="入住登记标识 / check-in ID")
    recorded_at: datetime = strawberry.field(description="登记时间 / recorded at")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="退房回执 / receipt for a check-out")
class CheckOutReceipt:
    check_in_id: strawberry.ID = strawberry.field(description="入住登记标识 / check-in ID")
    checked_out_at: datetime = strawberry.field(description="退房时间 / checked out at")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="入住登记变更结果 / the check-in after the change")
class GuestCheckInPayload:
    check_in: GuestCheckIn | None = strawberry.field(description="入住登记 / the check-in, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()
