"""Population workflow mutations: registration and review, household and temporary-stay changes,
dog licences, and guest check-ins at short-term rentals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import inputs
from gateway.context import Context, Info
from gateway.errors import BadUserInput, Conflict, Forbidden, NotFound
from gateway.ids import encode_id
from gateway.loaders import load_one
from gateway.node import from_row
from gateway.outbox import emit
from gateway.touched import note_row
from gateway.writes import authorize, expect_version, preset, rule, transaction, visible_row
from resolvers.grid import tables as grid_tables
from resolvers.population import tables as t
from resolvers.population.queries import valid_id_number
from resolvers.population.types import (
    CheckInReceipt,
    DogLicence,
    DogLicenceDecision,
    DogLicencePayload,
    Gender,
    RegistrationKind,
    ResidentPayload,
    ResidentReviewDecision,
    TemporaryStay,
    TemporaryStayPayload,
    resident,
)
from resolvers.population.workflow import RESIDENT, check_dog_licence_step, registered_again

DOMAIN = "population"
BEIJING = timezone(timedelta(hours=8))
IDEMPOTENCY_KEY = "客户端请求号(幂等) / idempotency key"
VERSION = "所依据的版本号 / the version this change is based on"


@strawberry.input(description="居民登记(同一身份证号只更新那一条) / register a resident; one ID number, one record")
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
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="民警审核登记 / the police review a registration")
class ReviewResidentInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    decision: ResidentReviewDecision = strawberry.field(description="审核结论 / decision")
    reason: str | None = strawberry.field(default=None, description="退回理由 / reason, required when returning")
    expected_version: int | None = strawberry.field(default=None, description=VERSION)
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="修改居民信息(只改所填项) / change a resident's details; only what is given")
class UpdateResidentInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    expected_version: int = strawberry.field(description=VERSION)
    name: str | None = strawberry.field(default=None, description="姓名 / full name")
    ethnicity: str | None = strawberry.field(default=None, description="民族 / ethnicity")
    phone: str | None = strawberry.field(default=None, description="联系电话 / mobile number")
    address: str | None = strawberry.field(default=None, description="居住地址 / home address")
    building: str | None = strawberry.field(default=None, description="楼栋 / address down to the building")
    registration_kind: RegistrationKind | None = strawberry.field(
        default=None, description="户籍类别 / registration kind"
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="新立户 / a new household")
class NewHouseholdInput:
    number: str = strawberry.field(description="户号 / household number")
    address: str = strawberry.field(description="户地址 / household address")


@strawberry.input(description="户籍变动 / move a resident to another household (or a new one)")
class MoveResidentToHouseholdInput:
    resident_id: strawberry.ID = strawberry.field(description="居民标识 / resident ID")
    household_id: strawberry.ID | None = strawberry.field(default=None, description="迁入户 / an existing household")
    new_household: NewHouseholdInput | None = strawberry.field(
        default=None, description="新立户(与迁入户二选一) / a new household, instead of an existing one"
    )
    expected_version: int | None = strawberry.field(default=None, description=VERSION)
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


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
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="犬证申请 / apply for a dog licence")
class ApplyDogLicenceInput:
    resident_id: strawberry.ID = strawberry.field(description="申请人(居民标识) / applicant's resident ID")
    dog_name: str = strawberry.field(description="犬名 / dog's name")
    breed: str = strawberry.field(description="品种 / breed")
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="犬证审核 / a review step of a dog licence")
class DogLicenceReviewInput:
    dog_licence_id: strawberry.ID = strawberry.field(description="犬证申请标识 / dog licence ID")
    decision: DogLicenceDecision = strawberry.field(description="审核结论 / decision")
    reason: str | None = strawberry.field(default=None, description="驳回理由 / reason, required when rejecting")
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="网约房入住登记 / check a guest in at a short-term rental")
class CheckInGuestInput:
    property_id: strawberry.ID = strawberry.field(description="网约房标识 / rental property ID")
    guest_name: str = strawberry.field(description="住客姓名 / guest's name")
    guest_id_number: str = strawberry.field(description="住客身份证号 / guest's citizen ID number")
    checked_in_at: datetime | None = strawberry.field(
        default=None, description="入住时间(默认现在;无时区按北京时间) / checked in at; now by default, Beijing time"
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


# ---------------------------------------------------------------------------- input checks


def _born(number: str, gender: Gender, given: date | None) -> date:
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


def _reason(given: str | None, required: bool) -> str | None:
    return inputs.text(given, "input.reason", 500, required=required)


def _check_in_time(given: datetime | None, now: datetime) -> datetime:
    if given is None:
        return now
    # Landlords' phones send local time; Tianjin's is Beijing time.
    moment = given if given.tzinfo is not None else given.replace(tzinfo=BEIJING)
    if moment > now + timedelta(minutes=10) or moment < now - timedelta(days=30):
        raise BadUserInput(
            "input.checkedInAt must lie within the last 30 days, not in the future", argument="input.checkedInAt"
        )
    return moment


async def _grid(ctx: Context, mutation: str, given: strawberry.ID | None) -> int:
    """The grid a new row lies in: preset for a grid worker, else as sent, and it must exist."""
    sent = None if given is None else inputs.pk(str(given), "Grid", "input.gridId")
    grid_id = preset(ctx, mutation, "gridId", sent)
    if grid_id is None:
        raise BadUserInput("input.gridId is required", argument="input.gridId")
    async with ctx.databases.session("grid") as session:
        found = await session.scalar(select(grid_tables.Grid.id).where(grid_tables.Grid.id == grid_id))
    if found is None:
        raise BadUserInput(f"input.gridId: no such grid {given!r}", argument="input.gridId")
    return int(grid_id)


async def _household_in_grid(ctx: Context, given: strawberry.ID, grid_id: int) -> int:
    pk = inputs.pk(str(given), "Household", "input.householdId")
    row = await load_one(ctx, t.Household, pk)
    if row is None:
        raise BadUserInput(f"input.householdId: no such household {given!r}", argument="input.householdId")
    if row.grid_id != grid_id:
        raise BadUserInput("input.householdId: that household lies in another grid", argument="input.householdId")
    return pk


# ---------------------------------------------------------------------------- payloads


async def _resident_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> ResidentPayload:
    row = await load_one(ctx, t.Resident, pk)
    return ResidentPayload(resident=None if row is None else resident(row), client_mutation_id=client_mutation_id)


async def _licence_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> DogLicencePayload:
    row = await load_one(ctx, t.DogLicence, pk)
    licence = None if row is None else from_row(DogLicence, row)
    return DogLicencePayload(dog_licence=licence, client_mutation_id=client_mutation_id)


# ---------------------------------------------------------------------------- registration


def _may_register_over(ctx: Context, grid_id: int) -> None:
    try:
        authorize(ctx, "registerResident", grid_id)
    except Forbidden:
        # Only that the person is registered elsewhere: nothing of the record itself.
        raise Forbidden(
            "registerResident: this ID number is already registered outside your area; "
            "ask the community police to transfer the record"
        ) from None


async def _upsert_resident(ctx: Context, number: str, values: dict[str, Any]) -> int:
    async with transaction(ctx, DOMAIN) as session:
        stmt = select(t.Resident).where(t.Resident.id_number == number).with_for_update()
        row = (await session.scalars(stmt)).first()
        if row is None:
            given = {k: v for k, v in values.items() if v is not None}
            row = t.Resident(
                id_number=number,
                status="pending_review",
                watch_flag=False,
                criminal_flag=False,
                registered_at=datetime.now(UTC),
                version=1,
                **given,
            )
            session.add(row)
            await session.flush()
            kind = "registered"
        else:
            _may_register_over(ctx, row.grid_id)
            for key, value in values.items():
                if value is not None:
                    setattr(row, key, value)
            row.status = registered_again(row.status)
            row.version += 1
            kind = "updated"
        await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, kind)
    return int(row.id)


async def _register(ctx: Context, number: str, values: dict[str, Any]) -> int:
    """Insert the resident, or update the one record of its ID number. When two registrations
    of a new number race, the unique index refuses the second insert, and the loser's
    transaction runs once more, finding the winner's row to update."""
    try:
        return await _upsert_resident(ctx, number, values)
    except IntegrityError:
        return await _upsert_resident(ctx, number, values)


# ---------------------------------------------------------------------------- dog licences


async def _review_licence(ctx: Context, step: str, given: DogLicenceReviewInput, passed: str) -> DogLicencePayload:
    target = passed if given.decision is DogLicenceDecision.APPROVE else "rejected"
    reason = _reason(given.reason, required=target == "rejected")
    pk = inputs.pk(str(given.dog_licence_id), "DogLicence", "input.dogLicenceId")
    async with transaction(ctx, DOMAIN) as session:
        row = await visible_row(ctx, session, t.DogLicence, pk, "DogLicence")
        authorize(ctx, step, row.grid_id)
        check_dog_licence_step(step, row.status, target)
        row.status = target
        row.reviewed_at = datetime.now(UTC)
        if target == "rejected":
            row.reason = reason
        await emit(session, t.PopulationOutbox, "dogLicence", "DogLicence", row.id, row.grid_id, target)
    return await _licence_payload(ctx, pk, given.client_mutation_id)


# ---------------------------------------------------------------------------- check-ins


async def _property(ctx: Context, session: AsyncSession, pk: int) -> Any:
    """The property a guest checks in at. A grant with ``check: none`` (the rental platform)
    checks guests in at any property while reading none of them, so it is read for it here;
    anyone else reads it as themselves."""
    if rule(ctx, "checkInGuest").check != "none":
        return await visible_row(ctx, session, t.RentalProperty, pk, "RentalProperty")
    row = await session.get(t.RentalProperty, pk)
    if row is None:
        raise NotFound(f"No RentalProperty with ID {encode_id('RentalProperty', pk)}", argument="input.propertyId")
    return row


async def _identity(session: AsyncSession, number: str, name: str) -> tuple[str, bool, int | None]:
    """The police's check of a guest against the population records: (verification, flagged,
    matched resident). Read as the system, whoever checks the guest in.

    A number these records do not hold (most visitors come from elsewhere) is ``unverified``
    and not flagged; a known number under another name is a ``mismatch`` and flagged, and so
    is a verified guest on a watch list.
    """
    match = (await session.scalars(select(t.Resident).where(t.Resident.id_number == number))).first()
    if match is None:
        return "unverified", False, None
    if match.name != name:
        return "mismatch", True, None
    return "verified", bool(match.watch_flag), int(match.id)


@strawberry.type
class PopulationMutation:
    @strawberry.mutation(description="居民登记(待民警审核) / register a resident, for police review")
    async def register_resident(
        self, info: Info, input: Annotated[RegisterResidentInput, strawberry.argument(description="登记 / the record")]
    ) -> ResidentPayload:
        ctx = info.context
        number = valid_id_number(input.id_number, "input.idNumber")
        values: dict[str, Any] = {
            "name": inputs.required_text(input.name, "input.name", 40),
            "gender": input.gender.value,
            "birth_date": _born(number, input.gender, input.birth_date),
            "ethnicity": inputs.text(input.ethnicity, "input.ethnicity", 20, required=False),
            "phone": inputs.phone(input.phone, "input.phone"),
            "address": inputs.required_text(input.address, "input.address", 200),
            "building": inputs.required_text(input.building, "input.building", 120),
            "registration_kind": input.registration_kind.value,
        }
        grid_id = await _grid(ctx, "registerResident", input.grid_id)
        authorize(ctx, "registerResident", grid_id)
        values["grid_id"] = grid_id
        if input.household_id is not None:
            values["household_id"] = await _household_in_grid(ctx, input.household_id, grid_id)
        pk = await _register(ctx, number, values)
        return await _resident_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="审核居民登记 / approve a registration, or return it with a reason")
    async def review_resident(
        self, info: Info, input: Annotated[ReviewResidentInput, strawberry.argument(description="审核 / the review")]
    ) -> ResidentPayload:
        ctx = info.context
        target = "active" if input.decision is ResidentReviewDecision.APPROVE else "returned"
        reason = _reason(input.reason, required=target == "returned")
        pk = inputs.pk(str(input.resident_id), "Resident", "input.residentId")
        async with transaction(ctx, DOMAIN) as session:
            row = await visible_row(ctx, session, t.Resident, pk, "Resident")
            authorize(ctx, "reviewResident", row.grid_id)
            RESIDENT.check(row.status, target)
            expect_version(row, input.expected_version, "Resident")
            row.status = target
            row.review_note = reason
            await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, target)
        return await _resident_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="修改居民信息 / change a resident's details")
    async def update_resident(
        self, info: Info, input: Annotated[UpdateResidentInput, strawberry.argument(description="修改 / the change")]
    ) -> ResidentPayload:
        ctx = info.context
        given = {
            "name": None if input.name is None else inputs.required_text(input.name, "input.name", 40),
            "ethnicity": inputs.text(input.ethnicity, "input.ethnicity", 20, required=False),
            "phone": inputs.phone(input.phone, "input.phone"),
            "address": None if input.address is None else inputs.required_text(input.address, "input.address", 200),
            "building": None if input.building is None else inputs.required_text(input.building, "input.building", 120),
            "registration_kind": None if input.registration_kind is None else input.registration_kind.value,
        }
        changes = {key: value for key, value in given.items() if value is not None}
        if not changes:
            raise BadUserInput("input: give at least one detail to change", argument="input")
        pk = inputs.pk(str(input.resident_id), "Resident", "input.residentId")
        async with transaction(ctx, DOMAIN) as session:
            row = await visible_row(ctx, session, t.Resident, pk, "Resident")
            authorize(ctx, "updateResident", row.grid_id)
            expect_version(row, input.expected_version, "Resident")
            for key, value in changes.items():
                setattr(row, key, value)
            await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, "updated")
        return await _resident_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="户籍变动:迁入他户或新立户 / move a resident to another household, or a new one")
    async def move_resident_to_household(
        self,
        info: Info,
        input: Annotated[MoveResidentToHouseholdInput, strawberry.argument(description="变动 / the move")],
    ) -> ResidentPayload:
        ctx = info.context
        if (input.household_id is None) == (input.new_household is None):
            raise BadUserInput("input: give either householdId or newHousehold", argument="input.householdId")
        given = input.household_id
        target = None if given is None else inputs.pk(str(given), "Household", "input.householdId")
        new = None if input.new_household is None else _new_household_details(input.new_household)
        pk = inputs.pk(str(input.resident_id), "Resident", "input.residentId")
        async with transaction(ctx, DOMAIN) as session:
            row = await visible_row(ctx, session, t.Resident, pk, "Resident")
            authorize(ctx, "moveResidentToHousehold", row.grid_id)
            expect_version(row, input.expected_version, "Resident")
            if target is not None:
                household = await visible_row(ctx, session, t.Household, target, "Household")
                authorize(ctx, "moveResidentToHousehold", household.grid_id)
                if household.id == row.household_id:
                    raise Conflict("The resident already belongs to that household", argument="input.householdId")
            else:
                assert new is not None
                household = await _new_household(session, new, row)
            await _leave_household(session, row)
            # A household is where one is registered (户籍), not always where one lives (人户分离):
            # the resident's address and grid stay as they are.
            row.household_id = household.id
            await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, "household_changed")
        return await _resident_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="暂住登记 / register a temporary stay of a floating resident")
    async def register_temporary_stay(
        self,
        info: Info,
        input: Annotated[RegisterTemporaryStayInput, strawberry.argument(description="暂住 / the stay")],
    ) -> TemporaryStayPayload:
        ctx = info.context
        address = inputs.required_text(input.address, "input.address", 200)
        reason = inputs.required_text(input.reason, "input.reason", 60)
        if input.end_date is not None and input.end_date < input.start_date:
            raise BadUserInput("input.endDate lies before input.startDate", argument="input.endDate")
        grid_id = await _grid(ctx, "registerTemporaryStay", input.grid_id)
        authorize(ctx, "registerTemporaryStay", grid_id)
        pk = inputs.pk(str(input.resident_id), "Resident", "input.residentId")
        async with transaction(ctx, DOMAIN) as session:
            await visible_row(ctx, session, t.Resident, pk, "Resident")
            stay = t.TemporaryStay(
                resident_id=pk,
                grid_id=grid_id,
                address=address,
                reason=reason,
                start_date=input.start_date,
                end_date=input.end_date,
            )
            session.add(stay)
            await session.flush()
            await emit(session, t.PopulationOutbox, "temporaryStay", "TemporaryStay", stay.id, grid_id, "registered")
        row = await load_one(ctx, t.TemporaryStay, stay.id)
        return TemporaryStayPayload(
            temporary_stay=None if row is None else from_row(TemporaryStay, row),
            client_mutation_id=input.client_mutation_id,
        )

    @strawberry.mutation(description="申请犬证 / apply for a dog licence (status applied)")
    async def apply_dog_licence(
        self, info: Info, input: Annotated[ApplyDogLicenceInput, strawberry.argument(description="申请 / application")]
    ) -> DogLicencePayload:
        ctx = info.context
        dog = inputs.required_text(input.dog_name, "input.dogName", 40)
        breed = inputs.required_text(input.breed, "input.breed", 40)
        pk = inputs.pk(str(input.resident_id), "Resident", "input.residentId")
        async with transaction(ctx, DOMAIN) as session:
            owner = await visible_row(ctx, session, t.Resident, pk, "Resident")
            authorize(ctx, "applyDogLicence", owner.grid_id)
            pending = select(func.count(t.DogLicence.id)).where(
                t.DogLicence.resident_id == pk,
                t.DogLicence.dog_name == dog,
                t.DogLicence.status.in_(("applied", "pre_reviewed")),
            )
            if await session.scalar(pending):
                raise Conflict(f"input.dogName: {dog} has an application under review", argument="input.dogName")
            licence = t.DogLicence(
                resident_id=pk,
                grid_id=owner.grid_id,
                dog_name=dog,
                breed=breed,
                status="applied",
                applied_at=datetime.now(UTC),
            )
            session.add(licence)
            await session.flush()
            await emit(session, t.PopulationOutbox, "dogLicence", "DogLicence", licence.id, owner.grid_id, "applied")
        return await _licence_payload(ctx, licence.id, input.client_mutation_id)

    @strawberry.mutation(description="犬证初审 / the officer's pre-review of a dog licence")
    async def pre_review_dog_licence(
        self, info: Info, input: Annotated[DogLicenceReviewInput, strawberry.argument(description="初审 / pre-review")]
    ) -> DogLicencePayload:
        return await _review_licence(info.context, "preReviewDogLicence", input, "pre_reviewed")

    @strawberry.mutation(description="犬证审批 / approve or reject a pre-reviewed dog licence")
    async def decide_dog_licence(
        self, info: Info, input: Annotated[DogLicenceReviewInput, strawberry.argument(description="审批 / decision")]
    ) -> DogLicencePayload:
        return await _review_licence(info.context, "decideDogLicence", input, "approved")

    @strawberry.mutation(
        description="网约房住客入住登记(核验结果不返回) / check a guest in; the identity check is not disclosed"
    )
    async def check_in_guest(
        self, info: Info, input: Annotated[CheckInGuestInput, strawberry.argument(description="入住 / the check-in")]
    ) -> CheckInReceipt:
        ctx = info.context
        name = inputs.required_text(input.guest_name, "input.guestName", 40)
        number = valid_id_number(input.guest_id_number, "input.guestIdNumber")
        now = datetime.now(UTC)
        checked_in_at = _check_in_time(input.checked_in_at, now)
        pk = inputs.pk(str(input.property_id), "RentalProperty", "input.propertyId")
        async with transaction(ctx, DOMAIN) as session:
            place = await _property(ctx, session, pk)
            authorize(ctx, "checkInGuest", place.grid_id)
            verification, flagged, matched = await _identity(session, number, name)
            row = t.GuestCheckIn(
                property_id=pk,
                grid_id=place.grid_id,
                guest_name=name,
                guest_id_number=number,
                resident_id=matched,
                checked_in_at=checked_in_at,
                verification=verification,
                flagged=flagged,
            )
            session.add(row)
            await session.flush()
            kind = "flagged" if flagged else "checked_in"
            await emit(session, t.PopulationOutbox, "checkIn", "GuestCheckIn", row.id, place.grid_id, kind)
        # The receipt returns no row, but the audit trail still names the one written.
        note_row("GuestCheckIn", row.id)
        # A receipt only: whether the guest matched, or was flagged, is for the police.
        return CheckInReceipt(
            check_in_id=strawberry.ID(encode_id("GuestCheckIn", row.id)),
            recorded_at=now,
            client_mutation_id=input.client_mutation_id,
        )


def _new_household_details(given: NewHouseholdInput) -> tuple[str, str]:
    number = inputs.required_text(given.number, "input.newHousehold.number", 20)
    address = inputs.required_text(given.address, "input.newHousehold.address", 200)
    return number, address


async def _new_household(session: AsyncSession, details: tuple[str, str], member: Any) -> Any:
    """A new household in the member's grid, headed by the member."""
    number, address = details
    taken = await session.scalar(select(func.count(t.Household.id)).where(t.Household.number == number))
    if taken:
        raise Conflict("input.newHousehold.number is already in use", argument="input.newHousehold.number")
    household = t.Household(number=number, address=address, grid_id=member.grid_id, head_resident_id=member.id)
    session.add(household)
    await session.flush()
    return household


async def _leave_household(session: AsyncSession, member: Any) -> None:
    """Take the member out of their household; when they headed it, the next member heads it."""
    if member.household_id is None:
        return
    old = await session.get(t.Household, member.household_id, with_for_update=True)
    if old is None or old.head_resident_id != member.id:
        return
    next_head = select(func.min(t.Resident.id)).where(t.Resident.household_id == old.id, t.Resident.id != member.id)
    old.head_resident_id = await session.scalar(next_head)
