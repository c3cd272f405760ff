"""Resident registration and its review, changes of details and household, temporary stays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import uuid4

import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import load_one
from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Forbidden, Info, not_found
from gateway.schema import from_row
from gateway.write import (
    authorize,
    expect_version,
    in_own_area,
    inputs,
    row_to_change,
    transaction,
    visible_row,
    written,
)
from resolvers.population import tables as t
from resolvers.population.inputs import (
    DOMAIN,
    MoveResidentToHouseholdInput,
    RegisterResidentInput,
    RegisterTemporaryStayInput,
    ResubmitRegistrationInput,
    ReviewRegistrationInput,
    ReviewResidentInput,
    UpdateResidentInput,
    birth_date_of,
    grid_for,
    reason_given,
)
from resolvers.population.queries import valid_id_number
from resolvers.population.types import (
    Gender,
    ResidentPayload,
    ResidentRegistration,
    ResidentRegistrationPayload,
    ResidentReviewDecision,
    TemporaryStay,
    TemporaryStayPayload,
    resident,
)
from resolvers.population.workflow import REGISTRATION, RESIDENT


async def _household_in_grid(ctx: Context, given: strawberry.ID, grid_id: int) -> int:
    pk = inputs.pk(str(given), "Household", "input.householdId")
    row = await load_one(ctx, t.Household, pk)
    if row is None:
        raise not_found("Household", "input.householdId")
    if row.grid_id != grid_id:
        raise BadUserInput("input.householdId: that household lies in another grid", argument="input.householdId")
    return pk


async def _resident_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> ResidentPayload:
    return ResidentPayload(resident=await written(ctx, t.Resident, pk, resident), client_mutation_id=client_mutation_id)


def _registration(row: t.ResidentRegistration) -> ResidentRegistration:
    return from_row(ResidentRegistration, row)


async def _registration_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> ResidentRegistrationPayload:
    found = await written(ctx, t.ResidentRegistration, pk, _registration)
    return ResidentRegistrationPayload(registration=found, client_mutation_id=client_mutation_id)


async def _submit(ctx: Context, number: str, values: dict[str, Any]) -> int:
    """Keep the registration for review. It reads no resident: whether the number is new, held
    in the caller's area or outside it, the same row is written, the same event sent, and the
    same answer given."""
    async with transaction(ctx, DOMAIN) as session:
        row = t.ResidentRegistration(
            id_number=number,
            status="pending_review",
            submitted_at=datetime.now(UTC),
            version=1,
            collector_staff_id=ctx.principal.record.staff_id,
            **values,
        )
        session.add(row)
        await session.flush()
        await emit(
            session, t.PopulationOutbox, "registration", "ResidentRegistration", row.id, row.grid_id, "submitted"
        )
    return int(row.id)


# What an approved registration writes into the resident record; a value it left out (no
# ethnicity, phone or household given) keeps what the record has.
_APPLIED = (
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "building",
    "household_id",
    "grid_id",
    "registration_kind",
)


async def _apply(session: AsyncSession, registration: Any) -> tuple[int, str]:
    """Write an approved registration into the one resident of its ID number: a new record, or
    the existing one, wherever it lies (the person lives where they were registered now), with
    its version raised. Returns the resident's key and the event it makes.

    Read as the system: the police's merge must find the record whoever may see it, or a second
    record of one person would be written."""
    given = {key: getattr(registration, key) for key in _APPLIED if getattr(registration, key) is not None}
    stmt = select(t.Resident).where(t.Resident.id_number == registration.id_number).with_for_update()
    row = (await session.scalars(stmt)).first()
    if row is None:
        row = t.Resident(
            id_number=registration.id_number,
            status="active",
            watch_flag=False,
            criminal_flag=False,
            registered_at=registration.submitted_at,
            version=1,
            **given,
        )
        session.add(row)
        await session.flush()
        return int(row.id), "registered"
    for key, value in given.items():
        setattr(row, key, value)
    # Approval is the review a returned, moved-out or imported pending record was waiting for.
    row.status = "active"
    row.review_note = None
    row.version += 1
    return int(row.id), "updated"


# What a transfer for review copies of the registration it asks about.
_COPIED = (*_APPLIED, "id_number", "collector_staff_id")


async def _review_registration(
    ctx: Context, given: strawberry.ID, target: str, reason: str | None, expected: int | None
) -> int:
    async with transaction(ctx, DOMAIN) as session:
        registration = await row_to_change(
            ctx,
            session,
            "reviewRegistration",
            t.ResidentRegistration,
            "ResidentRegistration",
            given,
            "input.registrationId",
        )
        pk = int(registration.id)
        collector = registration.collector_staff_id
        if collector is not None and collector == ctx.principal.record.staff_id:
            raise Forbidden("reviewRegistration: a registration is reviewed by someone other than its collector")
        if registration.awaits_holder_review:
            raise Conflict(
                "This registration awaits the police of the area that holds the record",
                argument="input.registrationId",
            )
        REGISTRATION.check(registration.status, target)
        expect_version(registration, expected, "ResidentRegistration")
        # A transfer is decided for the registration it asks about; that one is what gets applied.
        asked = registration
        if registration.transfer_of is not None:
            asked = await session.get(t.ResidentRegistration, registration.transfer_of, with_for_update=True)
            assert asked is not None
            asked.awaits_holder_review = False
        elif target == "approved":
            holder_grid = await _holder_grid(session, registration.id_number)
            if holder_grid is not None and not in_own_area(ctx, holder_grid):
                await _ask_the_holder(session, registration, holder_grid)
                return pk
        now = datetime.now(UTC)
        for row in {registration, asked}:
            row.status, row.review_note, row.reviewed_at = target, reason, now
        if target == "approved":
            resident_pk, kind = await _apply(session, asked)
            registration.resident_id = asked.resident_id = resident_pk
            await emit(session, t.PopulationOutbox, "resident", "Resident", resident_pk, asked.grid_id, kind)
        for row in {registration, asked}:
            await emit(session, t.PopulationOutbox, "registration", "ResidentRegistration", row.id, row.grid_id, target)
    return pk


async def _ask_the_holder(session: AsyncSession, registration: Any, holder_grid: int) -> None:
    """Ask the area holding the number, by a transfer row in its grid for its officer. The
    registration itself stays pending: its collector, who may not even read the number, must not
    learn from its state that the number is held elsewhere; the reviewing officer sees
    ``awaitsHolderReview``."""
    transfer = t.ResidentRegistration(
        **{key: getattr(registration, key) for key in _COPIED},
        status="transfer_review",
        submitted_at=datetime.now(UTC),
        version=1,
        transfer_of=registration.id,
    )
    transfer.grid_id = holder_grid
    registration.awaits_holder_review = True
    session.add(transfer)
    await session.flush()
    await emit(
        session, t.PopulationOutbox, "registration", "ResidentRegistration", transfer.id, holder_grid, "transfer_review"
    )


async def _holder_grid(session: AsyncSession, number: str) -> int | None:
    """The grid of the resident holding ``number``, read as the system; None when there is none."""
    stmt = select(t.Resident.grid_id).where(t.Resident.id_number == number)
    return (await session.scalars(stmt)).first()


async def _review(ctx: Context, given: strawberry.ID, target: str, reason: str | None, expected: int | None) -> int:
    """When two approvals of one new number race, the unique index refuses the second insert, and
    the loser's transaction runs once more, finding the winner's record to apply itself to."""
    try:
        return await _review_registration(ctx, given, target, reason, expected)
    except IntegrityError:
        return await _review_registration(ctx, given, target, reason, expected)


def _corrections(given: ResubmitRegistrationInput) -> dict[str, Any]:
    """The details a resubmission changes; the ID number only when it is given again."""
    values: dict[str, Any] = {
        "id_number": None if given.id_number is None else valid_id_number(given.id_number, "input.idNumber"),
        "name": None if given.name is None else inputs.required_text(given.name, "input.name", 40),
        "ethnicity": inputs.text(given.ethnicity, "input.ethnicity", 20, required=False),
        "phone": inputs.phone(given.phone, "input.phone"),
        "address": None if given.address is None else inputs.required_text(given.address, "input.address", 200),
        "building": None if given.building is None else inputs.required_text(given.building, "input.building", 120),
        "registration_kind": None if given.registration_kind is None else given.registration_kind.value,
    }
    return {key: value for key, value in values.items() if value is not None}


async def _resubmit(ctx: Context, given: ResubmitRegistrationInput) -> int:
    changes = _corrections(given)
    async with transaction(ctx, DOMAIN) as session:
        row = await row_to_change(
            ctx,
            session,
            "resubmitRegistration",
            t.ResidentRegistration,
            "ResidentRegistration",
            given.registration_id,
            "input.registrationId",
        )
        if row.collector_staff_id is None or row.collector_staff_id != ctx.principal.record.staff_id:
            raise Forbidden("resubmitRegistration: only the staff member who collected it may resubmit it")
        REGISTRATION.check(row.status, "pending_review")
        expect_version(row, given.expected_version, "ResidentRegistration")
        if given.household_id is not None:
            changes["household_id"] = await _household_in_grid(ctx, given.household_id, row.grid_id)
        for key, value in changes.items():
            setattr(row, key, value)
        # The number (kept, or corrected), the gender and the birth date must still agree.
        gender = Gender(row.gender) if given.gender is None else given.gender
        row.birth_date = birth_date_of(row.id_number, gender, given.birth_date)
        row.gender = gender.value
        row.status = "pending_review"
        row.submitted_at = datetime.now(UTC)
        await emit(
            session, t.PopulationOutbox, "registration", "ResidentRegistration", row.id, row.grid_id, "resubmitted"
        )
    return int(row.id)


async def _new_household(session: AsyncSession, address: str, member: Any) -> Any:
    """A new household in the member's grid, headed by the member, numbered from its key."""
    household = t.Household(number=f"new-{uuid4().hex[:16]}", address=address, grid_id=member.grid_id)
    household.head_resident_id = member.id
    session.add(household)
    await session.flush()
    household.number = t.household_number(household.id)
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


@strawberry.type
class RegistrationMutation:
    @strawberry.mutation(description="居民登记(待民警审核) / register a resident, for police review")
    async def register_resident(
        self, info: Info, input: Annotated[RegisterResidentInput, strawberry.argument(description="登记 / the record")]
    ) -> ResidentRegistrationPayload:
        """Every registration is kept for the police's review, and answers alike: a pending
        registration, whether its ID number is new, held by a resident the caller sees, or held
        by one outside the caller's area. So the answer never depends on a record the caller
        may not see, and no registration changes an active record: the review applies it to the
        one record of its number (never a second one). A caller who sees the resident and wants
        to change its details uses ``updateResident`` with the version it read."""
        ctx = info.context
        number = valid_id_number(input.id_number, "input.idNumber")
        values: dict[str, Any] = {
            "name": inputs.required_text(input.name, "input.name", 40),
            "gender": input.gender.value,
            "birth_date": birth_date_of(number, input.gender, input.birth_date),
            "ethnicity": inputs.text(input.ethnicity, "input.ethnicity", 20, required=False),
            "phone": inputs.phone(input.phone, "input.phone"),
            "address": inputs.required_text(input.address, "input.address", 200),
            "building": inputs.required_text(input.building, "input.building", 120),
            "registration_kind": input.registration_kind.value,
        }
        grid_id = await grid_for(ctx, "registerResident", input.grid_id)
        authorize(ctx, "registerResident", grid_id)
        values["grid_id"] = grid_id
        values["household_id"] = None
        if input.household_id is not None:
            values["household_id"] = await _household_in_grid(ctx, input.household_id, grid_id)
        pk = await _submit(ctx, number, values)
        return await _registration_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(
        description="审核居民登记:通过即入档(同号并入原档案) / approve a registration into the one record "
        "of its ID number, or return it with a reason"
    )
    async def review_registration(
        self,
        info: Info,
        input: Annotated[ReviewRegistrationInput, strawberry.argument(description="审核 / the review")],
    ) -> ResidentRegistrationPayload:
        ctx = info.context
        target = "approved" if input.decision is ResidentReviewDecision.APPROVE else "returned"
        reason = reason_given(input.reason, required=target == "returned")
        pk = await _review(ctx, input.registration_id, target, reason, input.expected_version)
        return await _registration_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(
        description="补正并重新提交被退回的登记(采集人,按登记标识) / the collector corrects a returned registration "
        "by its ID and submits it again for review"
    )
    async def resubmit_registration(
        self,
        info: Info,
        input: Annotated[ResubmitRegistrationInput, strawberry.argument(description="补正 / the corrections")],
    ) -> ResidentRegistrationPayload:
        ctx = info.context
        pk = await _resubmit(ctx, input)
        return await _registration_payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="审核导入的待审居民档案 / approve an imported record under review, or return it")
    async def review_resident(
        self, info: Info, input: Annotated[ReviewResidentInput, strawberry.argument(description="审核 / the review")]
    ) -> ResidentPayload:
        ctx = info.context
        target = "active" if input.decision is ResidentReviewDecision.APPROVE else "returned"
        reason = reason_given(input.reason, required=target == "returned")
        async with transaction(ctx, DOMAIN) as session:
            row = await row_to_change(
                ctx, session, "reviewResident", t.Resident, "Resident", input.resident_id, "input.residentId"
            )
            RESIDENT.check(row.status, target)
            expect_version(row, input.expected_version, "Resident")
            row.status = target
            row.review_note = reason
            await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, target)
        return await _resident_payload(ctx, row.id, input.client_mutation_id)

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
        async with transaction(ctx, DOMAIN) as session:
            row = await row_to_change(
                ctx, session, "updateResident", t.Resident, "Resident", input.resident_id, "input.residentId"
            )
            expect_version(row, input.expected_version, "Resident")
            for key, value in changes.items():
                setattr(row, key, value)
            await emit(session, t.PopulationOutbox, "resident", "Resident", row.id, row.grid_id, "updated")
        return await _resident_payload(ctx, row.id, input.client_mutation_id)

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
        new = None
        if input.new_household is not None:
            new = inputs.required_text(input.new_household.address, "input.newHousehold.address", 200)
        async with transaction(ctx, DOMAIN) as session:
            row = await row_to_change(
                ctx, session, "moveResidentToHousehold", t.Resident, "Resident", input.resident_id, "input.residentId"
            )
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
        return await _resident_payload(ctx, row.id, input.client_mutation_id)

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
        grid_id = await grid_for(ctx, "registerTemporaryStay", input.grid_id)
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
        written_stay = await written(ctx, t.TemporaryStay, stay.id, lambda row: from_row(TemporaryStay, row))
        return TemporaryStayPayload(temporary_stay=written_stay, client_mutation_id=input.client_mutation_id)
