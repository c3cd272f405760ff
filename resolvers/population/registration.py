"""Resident registration and review, changes of details and household, temporary stays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import load_one
from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Forbidden, Info
from gateway.schema import from_row
from gateway.write import authorize, expect_version, inputs, row_to_change, transaction, visible_row, written
from resolvers.population import tables as t
from resolvers.population.inputs import (
    DOMAIN,
    MoveResidentToHouseholdInput,
    NewHouseholdInput,
    RegisterResidentInput,
    RegisterTemporaryStayInput,
    ReviewResidentInput,
    UpdateResidentInput,
    birth_date_of,
    grid_for,
    reason_given,
)
from resolvers.population.queries import valid_id_number
from resolvers.population.types import (
    ResidentPayload,
    ResidentReviewDecision,
    TemporaryStay,
    TemporaryStayPayload,
    resident,
)
from resolvers.population.workflow import RESIDENT, registered_again


async def _household_in_grid(ctx: Context, given: strawberry.ID, grid_id: int) -> int:
    pk = inputs.pk(str(given), "Household", "input.householdId")
    row = await load_one(ctx, t.Household, pk)
    if row is None:
        raise BadUserInput(f"input.householdId: no such household {given!r}", argument="input.householdId")
    if row.grid_id != grid_id:
        raise BadUserInput("input.householdId: that household lies in another grid", argument="input.householdId")
    return pk


async def _resident_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> ResidentPayload:
    return ResidentPayload(resident=await written(ctx, t.Resident, pk, resident), client_mutation_id=client_mutation_id)


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


@strawberry.type
class RegistrationMutation:
    @strawberry.mutation(description="居民登记(待民警审核) / register a resident, for police review")
    async def register_resident(
        self, info: Info, input: Annotated[RegisterResidentInput, strawberry.argument(description="登记 / the record")]
    ) -> ResidentPayload:
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
        new = None if input.new_household is None else _new_household_details(input.new_household)
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
