"""A rental check-in closed: the officer handles a flagged one (verifies the guest, clears the flag
with a reason, or escalates it), and the landlord, through the rental platform, checks the guest
out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import note_row
from gateway.data import encode_id
from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Info, not_found
from gateway.schema import from_row
from gateway.write import (
    authorize,
    client_mutation_id_field,
    inputs,
    row_to_change,
    rule,
    transaction,
    visible_row,
    written,
)
from resolvers.population import tables as t
from resolvers.population.inputs import DOMAIN, check_in_time
from resolvers.population.types import CheckInFlagDecision, CheckOutReceipt, GuestCheckIn, GuestCheckInPayload
from resolvers.population.workflow import CHECK_IN_FLAG

TOPIC = "checkIn"
# decision → the state it leaves the flag in
OUTCOME = {
    CheckInFlagDecision.VERIFY: "verified",
    CheckInFlagDecision.CLEAR: "cleared",
    CheckInFlagDecision.ESCALATE: "escalated",
}


@strawberry.input(description="处置入住核验异常 / handle a flagged check-in")
class HandleCheckInFlagInput:
    check_in_id: strawberry.ID = strawberry.field(description="入住登记标识 / check-in ID")
    decision: CheckInFlagDecision = strawberry.field(description="处置 / what the officer does")
    reason: str | None = strawberry.field(
        default=None, description="理由或说明(解除、上报时必填) / reason; required to clear or escalate"
    )
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="住客退房 / check a guest out")
class CheckOutGuestInput:
    check_in_id: strawberry.ID = strawberry.field(description="入住登记标识 / check-in ID")
    checked_out_at: datetime | None = strawberry.field(
        default=None, description="退房时间(默认现在;无时区按北京时间) / checked out at; now by default, Beijing time"
    )
    client_mutation_id: str | None = client_mutation_id_field()


def _utc(value: datetime) -> datetime:
    # SQLite hands back the UTC times it stores without their zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def _check_in(ctx: Context, session: AsyncSession, given: strawberry.ID) -> Any:
    """The check-in to check out. A grant with ``check: none`` (the rental platform) reads no
    check-in, so it is read for it here: only one at a property the platform operates; any other
    reads exactly like a missing one. Anyone else reads it as themselves, in their area."""
    pk = inputs.pk(str(given), "GuestCheckIn", "input.checkInId")
    if rule(ctx, "checkOutGuest").check != "none":
        row = await visible_row(ctx, session, t.GuestCheckIn, pk, "GuestCheckIn", "input.checkInId")
        authorize(ctx, "checkOutGuest", row.grid_id)
        return row
    operated = (
        select(t.GuestCheckIn)
        .join(t.RentalProperty, t.RentalProperty.id == t.GuestCheckIn.property_id)
        .where(t.GuestCheckIn.id == pk, t.RentalProperty.platform_id == ctx.principal.id)
        .with_for_update()
    )
    row = (await session.scalars(operated)).first()
    if row is None:
        raise not_found("GuestCheckIn", "input.checkInId")
    return row


@strawberry.type
class CheckOutMutation:
    @strawberry.mutation(
        description="民警处置入住核验异常:核实、解除(附理由)或上报 / the officer handles a flagged check-in: "
        "verify the guest, clear the flag with a reason, or escalate it"
    )
    async def handle_check_in_flag(
        self, info: Info, input: Annotated[HandleCheckInFlagInput, strawberry.argument(description="处置 / handling")]
    ) -> GuestCheckInPayload:
        ctx = info.context
        target = OUTCOME[input.decision]
        reason = inputs.text(input.reason, "input.reason", 500, required=target != "verified")
        async with transaction(ctx, DOMAIN) as session:
            row = await row_to_change(
                ctx, session, "handleCheckInFlag", t.GuestCheckIn, "GuestCheckIn", input.check_in_id, "input.checkInId"
            )
            CHECK_IN_FLAG.check(row.flag_status, target)
            row.flag_status = target
            row.flag_note = reason
            row.flag_handled_at = datetime.now(UTC)
            row.flag_handled_by_staff_id = ctx.principal.record.staff_id
            await emit(session, t.PopulationOutbox, TOPIC, "GuestCheckIn", row.id, row.grid_id, target)
        found = await written(ctx, t.GuestCheckIn, row.id, lambda r: from_row(GuestCheckIn, r))
        return GuestCheckInPayload(check_in=found, client_mutation_id=input.client_mutation_id)

    @strawberry.mutation(description="住客退房(房东) / check a guest out, for the landlord")
    async def check_out_guest(
        self, info: Info, input: Annotated[CheckOutGuestInput, strawberry.argument(description="退房 / the check-out")]
    ) -> CheckOutReceipt:
        ctx = info.context
        now = datetime.now(UTC)
        checked_out_at = check_in_time(input.checked_out_at, now, "input.checkedOutAt")
        async with transaction(ctx, DOMAIN) as session:
            row = await _check_in(ctx, session, input.check_in_id)
            if row.checked_out_at is not None:
                raise Conflict("The guest has already checked out", argument="input.checkInId")
            if checked_out_at < _utc(row.checked_in_at):
                raise BadUserInput("input.checkedOutAt lies before the check-in", argument="input.checkedOutAt")
            row.checked_out_at = checked_out_at
            await emit(session, t.PopulationOutbox, TOPIC, "GuestCheckIn", row.id, row.grid_id, "checked_out")
        note_row("GuestCheckIn", row.id)
        return CheckOutReceipt(
            check_in_id=strawberry.ID(encode_id("GuestCheckIn", row.id)),
            checked_out_at=checked_out_at,
            client_mutation_id=input.client_mutation_id,
        )
