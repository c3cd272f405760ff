"""Inputs of the population workflows, and the checks they share."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import strawberry

from gateway.kernel import BadUserInput, Context, not_found
from gateway.write import client_mutation_id_field, expected_version_field, inputs, preset
from resolvers.grid.lookups import grid_exists
from resolvers.population.types import DogLicenceDecision, Gender, RegistrationKind, ResidentReviewDecision

DOMAIN = "population"


@strawberry.input(
    description="居民登记(待审核;一个身份证号一条档案) / register a resident for review; one number, one record"
)
class RegisterResidentInput:
    id_number: str = strawberry.field(description="公民身份号码 / citizen ID number (GB 11643)")
    name: str = strawberry.field(description="姓名 / full name")
    gender: Gender = strawberry.field(description="性别(须与身份证号一致) / gender; must agree with the ID number")
    birth_date: date | None = strawberry.field(
        default=None, description="出生日期(取自身份证号,填写须一致) / birth date; taken from the ID number"
    )
    ethnicity: str | None = strawberry.field(default=None, description="民族(默认汉族) / ethnicity, 汉族 if not given")
    phone: str | None = strawberry.field(default=None, description="联系电话 / mobile number")
    address: str = strawberry.field(description="居住地址 / home address")
    building: str = strawberry.field(description="楼栋(地址到楼) / address down to the building")
    registration_kind: RegistrationKind = strawberry.field(description="户籍类别 / registration kind")
    grid_id: strawberry.ID | None = strawberry.field(
        default=None, description="网格(网格员为本网格) / grid; a grid worker's own grid is preset"
    )
    household_id: strawberry.ID | None = strawberry.field(default=None, description="所属户 / household, if known")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="民警审核登记 / the police review a registration")
class ReviewResidentInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    decision: ResidentReviewDecision = strawberry.field(description="审核结论 / decision")
    reason: str | None = strawberry.field(default=None, description="退回理由 / reason, required when returning")
    expected_version: int | None = expected_version_field()
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="民警审核居民登记 / the police review a collected registration")
class ReviewRegistrationInput:
    registration_id: strawberry.ID = strawberry.field(description="登记标识 / registration ID")
    decision: ResidentReviewDecision = strawberry.field(description="审核结论 / decision")
    reason: str | None = strawberry.field(default=None, description="退回理由 / reason, required when returning")
    expected_version: int | None = expected_version_field()
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(
    description="补正并重新提交被退回的登记(只改所填项,无需重填身份证号) / correct a returned registration "
    "and submit it again; only what is given changes, the ID number need not be typed again"
)
class ResubmitRegistrationInput:
    registration_id: strawberry.ID = strawberry.field(description="登记标识 / registration ID")
    expected_version: int | None = expected_version_field()
    id_number: str | None = strawberry.field(
        default=None, description="更正的公民身份号码(仅号码有误时) / a corrected citizen ID number, if it was wrong"
    )
    name: str | None = strawberry.field(default=None, description="姓名 / full name")
    gender: Gender | None = strawberry.field(default=None, description="性别 / gender")
    birth_date: date | None = strawberry.field(default=None, description="出生日期 / birth date")
    ethnicity: str | None = strawberry.field(default=None, description="民族 / ethnicity")
    phone: str | None = strawberry.field(default=None, description="联系电话 / mobile number")
    address: str | None = strawberry.field(default=None, description="居住地址 / home address")
    building: str | None = strawberry.field(default=None, description="楼栋(地址到楼) / address down to the building")
    registration_kind: RegistrationKind | None = strawberry.field(
        default=None, description="户籍类别 / registration kind"
    )
    household_id: strawberry.ID | None = strawberry.field(default=None, description="所属户 / household")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="修改居民信息(只改所填项) / change a resident's details; only what is given")
class UpdateResidentInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    expected_version: int = expected_version_field(required=True)
    name: str | None = strawberry.field(default=None, description="姓名 / full name")
    ethnicity: str | None = strawberry.field(default=None, description="民族 / ethnicity")
    phone: str | None = strawberry.field(default=None, description="联系电话 / mobile number")
    address: str | None = strawberry.field(default=None, description="居住地址 / home address")
    building: str | None = strawberry.field(default=None, description="楼栋 / address down to the building")
    registration_kind: RegistrationKind | None = strawberry.field(
        default=None, description="户籍类别 / registration kind"
    )
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="新立户(户号由系统编定) / a new household; its number is assigned")
class NewHouseholdInput:
    address: str = strawberry.field(description="户地址 / household address")


@strawberry.input(description="户籍变动 / move a resident to another household (or a new one)")
class MoveResidentToHouseholdInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    household_id: strawberry.ID | None = strawberry.field(default=None, description="迁入户 / an existing household")
    new_household: NewHouseholdInput | None = strawberry.field(
        default=None, description="新立户(与迁入户二选一) / a new household, instead of an existing one"
    )
    expected_version: int | None = expected_version_field()
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="暂住登记 / register a temporary stay (floating population)")
class RegisterTemporaryStayInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    address: str = strawberry.field(description="暂住地址 / address of the stay")
    reason: str = strawberry.field(description="暂住事由 / reason for the stay")
    start_date: date = strawberry.field(description="起始日期 / first day")
    end_date: date | None = strawberry.field(default=None, description="截止日期 / last day, if known")
    grid_id: strawberry.ID | None = strawberry.field(
        default=None, description="网格(网格员为本网格) / grid; a grid worker's own grid is preset"
    )
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="犬证申请 / apply for a dog licence")
class ApplyDogLicenceInput:
    resident_id: strawberry.ID = strawberry.field(description="申请人(居民标识) / applicant's resident ID")
    dog_name: str = strawberry.field(description="犬名 / dog's name")
    breed: str = strawberry.field(description="品种 / breed")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="犬证审核 / a review step of a dog licence")
class DogLicenceReviewInput:
    dog_licence_id: strawberry.ID = strawberry.field(description="犬证申请标识 / dog licence ID")
    decision: DogLicenceDecision = strawberry.field(description="审核结论 / decision")
    reason: str | None = strawberry.field(default=None, description="驳回理由 / reason, required when rejecting")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="网约房入住登记 / check a guest in at a short-term rental")
class CheckInGuestInput:
    property_id: strawberry.ID = strawberry.field(description="网约房标识 / rental property ID")
    guest_name: str = strawberry.field(description="住客姓名 / guest's name")
    guest_id_number: str = strawberry.field(description="住客身份证号 / guest's citizen ID number")
    checked_in_at: datetime | None = strawberry.field(
        default=None, description="入住时间(默认现在;无时区按北京时间) / checked in at; now by default, Beijing time"
    )
    client_mutation_id: str | None = client_mutation_id_field()


def birth_date_of(number: str, gender: Gender, given: date | None) -> date:
    """The birth date inside a valid ID number; the gender and any birth date sent must agree with it."""
    if (int(number[16]) % 2 == 1) != (gender is Gender.MALE):
        raise BadUserInput(
            "input.gender does not agree with the ID number (its 17th digit is odd for men, even for women)",
            argument="input.gender",
        )
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if born > date.today():
        raise BadUserInput("input.idNumber: the birth date inside it lies in the future", argument="input.idNumber")
    if given is not None and given != born:
        raise BadUserInput(f"input.birthDate does not agree with the ID number ({born})", argument="input.birthDate")
    return born


def reason_given(given: str | None, required: bool) -> str | None:
    return inputs.text(given, "input.reason", 500, required=required)


def check_in_time(given: datetime | None, now: datetime, argument: str = "input.checkedInAt") -> datetime:
    if given is None:
        return now
    # A time without its offset is refused, as everywhere (the DateTime scalar's description).
    moment = inputs.moment(given, argument)
    if moment > now + timedelta(minutes=10) or moment < now - timedelta(days=30):
        raise BadUserInput(f"{argument} must lie within the last 30 days, not in the future", argument=argument)
    return moment


async def grid_for(ctx: Context, mutation: str, given: strawberry.ID | None) -> int:
    """The grid a new row lies in: preset for a grid worker, else as sent, and it must exist."""
    sent = None if given is None else inputs.pk(str(given), "Grid", "input.gridId")
    grid_id = preset(ctx, mutation, "gridId", sent)
    if grid_id is None:
        raise BadUserInput("input.gridId is required", argument="input.gridId")
    if not await grid_exists(ctx, int(grid_id)):
        raise not_found("Grid", "input.gridId")
    return int(grid_id)
