"""Guest check-ins at short-term rentals: checked against the population records for the
police, while the caller learns only that the check-in was recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import note_row
from gateway.data import encode_id
from gateway.feed import emit
from gateway.kernel import Context, Info, not_found
from gateway.write import authorize, inputs, rule, transaction, visible_row
from resolvers.population import tables as t
from resolvers.population.inputs import (
    DOMAIN,
    CheckInGuestInput,
    check_in_time,
)
from resolvers.population.queries import valid_id_number
from resolvers.population.types import CheckInReceipt


async def _property(ctx: Context, session: AsyncSession, pk: int) -> Any:
    """The property a guest checks in at. A grant with ``check: none`` (a rental platform) reads
    no property, so it is read for it here: only one the platform operates. Another platform's
    property, or one no platform operates, reads exactly like a missing one, by the same single
    query. Anyone else reads it as themselves."""
    if rule(ctx, "checkInGuest").check != "none":
        return await visible_row(ctx, session, t.RentalProperty, pk, "RentalProperty", "input.propertyId")
    operated = select(t.RentalProperty).where(
        t.RentalProperty.id == pk, t.RentalProperty.platform_id == ctx.principal.id
    )
    row = (await session.scalars(operated)).first()
    if row is None:
        raise not_found("RentalProperty", "input.propertyId")
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
class CheckInMutation:
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
        checked_in_at = check_in_time(input.checked_in_at, now)
        pk = inputs.pk(str(input.property_id), "RentalProperty", "input.propertyId")
        async with transaction(ctx, DOMAIN) as session:
            place = await _property(ctx, session, pk)
            authorize(ctx, "checkInGuest", place.grid_id)
            verification, flagged, matched = await _identity(session, number, name)
            row = t.GuestCheckIn(
                property_id=pk,
                grid_id=place.grid_id,
                # A guest who matched a resident is a link to the record, not a copy of it.
                guest_name=None if matched is not None else name,
                guest_id_number=None if matched is not None else number,
                resident_id=matched,
                checked_in_at=checked_in_at,
                verification=verification,
                flagged=flagged,
                flag_status="flagged" if flagged else "none",
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
