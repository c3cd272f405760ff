"""Traffic mutations: the camera records captures; officers dispatch, intercept and penalise plate alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit import note_row
from gateway.data import encode_id
from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Info, not_found
from gateway.kernel.times import today
from gateway.write import (
    authorize,
    client_mutation_id_field,
    echoed_client_mutation_id_field,
    inputs,
    row_to_change,
    transaction,
    written,
)
from resolvers.grid.lookups import officer_covers, serving_staff
from resolvers.traffic import tables as t
from resolvers.traffic.plates import variants
from resolvers.traffic.queries import valid_plate
from resolvers.traffic.types import PlateAlert, plate_alert
from resolvers.traffic.workflow import PLATE_ALERT, check_close, matches, suspicion

CAPTURES = "capture"
ALERTS = "plateAlert"


@strawberry.input(description="卡口抓拍 / a camera capture")
class CaptureInput:
    camera_code: str = strawberry.field(description="卡口编号 / camera code")
    plate: str = strawberry.field(description="识别号牌 / plate as read (津X…)")
    observed_type: str = strawberry.field(description="识别车型 / vehicle type as seen")
    observed_colour: str = strawberry.field(description="识别颜色 / colour as seen")
    captured_at: datetime = strawberry.field(description="抓拍时间(含时区) / captured at, with offset")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="指派预警 / dispatch a plate alert to an officer")
class DispatchInput:
    alert_id: strawberry.ID = strawberry.field(description="预警标识 / plate alert ID")
    officer_id: strawberry.ID = strawberry.field(description="民警(工作人员标识) / the officer, a Staff ID")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="拦截车辆 / the vehicle was stopped")
class InterceptInput:
    alert_id: strawberry.ID = strawberry.field(description="预警标识 / plate alert ID")
    location: str = strawberry.field(description="拦截地点 / where it was stopped")
    intercepted_at: datetime = strawberry.field(description="拦截时间(含时区) / stopped at, with offset")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="违法处罚 / the penalty decided on an intercepted vehicle")
class ViolationInput:
    alert_id: strawberry.ID = strawberry.field(description="预警标识 / plate alert ID")
    description: str = strawberry.field(description="违法事实 / what was done")
    fine_yuan: Decimal = strawberry.field(description="罚款(元) / fine in yuan")
    points: int = strawberry.field(description="记分(0–12) / licence points, 0 to 12")
    detention_days: int = strawberry.field(description="拘留天数(0–15) / days of detention, 0 to 15")
    vehicle_id: strawberry.ID | None = strawberry.field(
        default=None, description="涉事车辆(默认为预警车辆) / the vehicle; by default the alert's"
    )
    driver_id: strawberry.ID | None = strawberry.field(
        default=None, description="驾驶人(登记居民标识) / the driver, when a registered resident (Resident ID)"
    )
    driver_name: str | None = strawberry.field(
        default=None, description="驾驶人姓名(非登记居民时) / the driver's name, when no registered resident"
    )
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="解除预警(误报) / dismiss a plate alert as a false alarm")
class DismissInput:
    alert_id: strawberry.ID = strawberry.field(description="预警标识 / plate alert ID")
    reason: str = strawberry.field(description="解除理由 / why it is a false alarm")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.type(description="抓拍回执 / receipt for a recorded capture")
class CaptureReceipt:
    capture_id: strawberry.ID = strawberry.field(description="抓拍标识 / capture ID")
    recorded_at: datetime = strawberry.field(description="入库时间 / recorded at")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


@strawberry.type(description="预警变更结果 / the plate alert after the change")
class PlateAlertPayload:
    plate_alert: PlateAlert | None = strawberry.field(description="号牌预警 / the plate alert, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


def _utc(value: datetime) -> datetime:
    # SQLite hands back the UTC times it stores without their zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def _payload(ctx: Context, pk: int, client_mutation_id: str | None) -> PlateAlertPayload:
    alert = await written(ctx, t.PlateAlert, pk, plate_alert)
    return PlateAlertPayload(plate_alert=alert, client_mutation_id=client_mutation_id)


async def _alert(ctx: Context, session: AsyncSession, name: str, alert_id: strawberry.ID) -> Any:
    """The alert to change, locked, if the principal may see it and write in its grid."""
    return await row_to_change(ctx, session, name, t.PlateAlert, "PlateAlert", alert_id, "input.alertId")


async def _record(session: AsyncSession, row: Any, kind: str) -> None:
    await emit(session, t.TrafficOutbox, ALERTS, "PlateAlert", row.id, row.grid_id, kind)


async def _altered_from(session: AsyncSession, plate: str, observed_type: str, observed_colour: str) -> Any | None:
    """The registered vehicle an unregistered plate may hide: its plate differs only by characters a
    sticker confuses, and its type and colour are what the camera saw. Fewest changes first, then
    the oldest registration; None when no vehicle fits."""
    changed = dict((variant, n) for n, variant in reversed(list(variants(plate))))
    if not changed:
        return None
    found = (await session.scalars(select(t.Vehicle).where(t.Vehicle.plate.in_(sorted(changed))))).all()
    fitting = [v for v in found if matches(observed_type, observed_colour, v)]
    return min(fitting, key=lambda v: (changed[v.plate], v.id), default=None)


async def _officer(ctx: Context, officer_id: strawberry.ID) -> int:
    pk = inputs.pk(str(officer_id), "Staff", "input.officerId")
    if not await serving_staff(ctx, pk, "community_police"):
        message = f"input.officerId: no serving community police officer {officer_id!r}"
        raise BadUserInput(message, argument="input.officerId")
    return pk


def _driver(given: ViolationInput) -> tuple[int | None, str | None]:
    """The driver named: a registered resident by ID (a link), or a name; one of them."""
    name = inputs.text(given.driver_name, "input.driverName", 40, required=False)
    if given.driver_id is not None and name:
        raise BadUserInput("input.driverName: give the driver's ID or name, not both", argument="input.driverName")
    if given.driver_id is not None:
        return inputs.pk(str(given.driver_id), "Resident", "input.driverId"), None
    if not name:
        raise BadUserInput("input.driverId: name the driver (driverId or driverName)", argument="input.driverId")
    return None, name


@strawberry.type
class TrafficMutation:
    @strawberry.mutation(
        description="记录卡口抓拍(号牌未登记或与登记车辆不符时预警) / record a capture; "
        "an unregistered or mismatching plate raises an alert"
    )
    async def record_capture(
        self, info: Info, input: Annotated[CaptureInput, strawberry.argument(description="抓拍 / the capture")]
    ) -> CaptureReceipt:
        ctx = info.context
        code = inputs.required_text(input.camera_code, "input.cameraCode", 24)
        plate = valid_plate(input.plate, "input.plate")
        observed_type = inputs.required_text(input.observed_type, "input.observedType", 24)
        observed_colour = inputs.required_text(input.observed_colour, "input.observedColour", 12)
        captured_at = inputs.moment(input.captured_at, "input.capturedAt", past_only=True)
        now = datetime.now(UTC)
        async with transaction(ctx, "traffic") as session:
            camera = await session.scalar(select(t.Camera).where(t.Camera.code == code))
            if camera is None:
                raise not_found("Camera", "input.cameraCode", key="code")
            authorize(ctx, "recordCapture", camera.grid_id)
            # The register is read as the system, not as the camera, which may read none of it.
            registered = await session.scalar(select(t.Vehicle).where(t.Vehicle.plate == plate))
            candidate = None
            if registered is None:
                candidate = await _altered_from(session, plate, observed_type, observed_colour)
            capture = t.Capture(
                camera_id=camera.id,
                plate=plate,
                observed_type=observed_type,
                observed_colour=observed_colour,
                captured_at=captured_at,
                vehicle_id=None if registered is None else registered.id,
            )
            session.add(capture)
            await session.flush()
            await emit(session, t.TrafficOutbox, CAPTURES, "Capture", capture.id, camera.grid_id, "recorded")
            raised = suspicion(plate, observed_type, observed_colour, registered, candidate)
            if raised is not None:
                kind, detail = raised
                alert = t.PlateAlert(
                    capture_id=capture.id,
                    # The vehicle registered to the plate read, or the one an altered plate hides.
                    vehicle_id=capture.vehicle_id if candidate is None else candidate.id,
                    grid_id=camera.grid_id,
                    kind=kind,
                    status="raised",
                    # The alert is about the moment the vehicle passed, not when the upload arrived.
                    raised_at=captured_at,
                    detail=detail,
                )
                session.add(alert)
                await session.flush()
                await _record(session, alert, "raised")
        # The receipt returns no row, but the audit trail still names the capture the camera wrote.
        note_row("Capture", capture.id)
        # The same receipt whether or not an alert was raised: the camera learns nothing.
        return CaptureReceipt(
            capture_id=strawberry.ID(encode_id("Capture", capture.id)),
            recorded_at=now,
            client_mutation_id=input.client_mutation_id,
        )

    @strawberry.mutation(
        description="指派或改派预警给民警 / dispatch a raised plate alert to an officer, or re-dispatch it to another"
    )
    async def dispatch_plate_alert(
        self, info: Info, input: Annotated[DispatchInput, strawberry.argument(description="指派 / the dispatch")]
    ) -> PlateAlertPayload:
        ctx = info.context
        officer = await _officer(ctx, input.officer_id)
        async with transaction(ctx, "traffic") as session:
            row = await _alert(ctx, session, "dispatchPlateAlert", input.alert_id)
            # An officer who cannot see the alert could not act on it, and no one else would get it:
            # to the dispatcher that officer is as missing as any row outside the alert's area.
            if not await officer_covers(ctx, officer, row.grid_id):
                raise not_found("Staff", "input.officerId")
            PLATE_ALERT.check(row.status, "dispatched")
            if row.status == "dispatched" and row.dispatched_to_staff_id == officer:
                raise Conflict("plate alert is already dispatched to this officer", argument="input.officerId")
            again = row.status == "dispatched"
            row.status = "dispatched"
            row.dispatched_to_staff_id = officer
            await _record(session, row, "redispatched" if again else "dispatched")
        return await _payload(ctx, row.id, input.client_mutation_id)

    @strawberry.mutation(description="记录拦截 / record where and when the vehicle was stopped")
    async def intercept_plate_alert(
        self, info: Info, input: Annotated[InterceptInput, strawberry.argument(description="拦截 / the interception")]
    ) -> PlateAlertPayload:
        ctx = info.context
        location = inputs.required_text(input.location, "input.location", 120)
        intercepted_at = inputs.moment(input.intercepted_at, "input.interceptedAt", past_only=True)
        async with transaction(ctx, "traffic") as session:
            row = await _alert(ctx, session, "interceptPlateAlert", input.alert_id)
            PLATE_ALERT.check(row.status, "intercepted")
            if intercepted_at < _utc(row.raised_at):
                raise BadUserInput("input.interceptedAt is before the alert was raised", argument="input.interceptedAt")
            row.status = "intercepted"
            row.intercepted_at = intercepted_at
            row.intercept_location = location
            await _record(session, row, "intercepted")
        return await _payload(ctx, row.id, input.client_mutation_id)

    @strawberry.mutation(description="作出处罚并办结 / decide the penalty on an intercepted vehicle; closes the alert")
    async def record_violation(
        self, info: Info, input: Annotated[ViolationInput, strawberry.argument(description="处罚 / the penalty")]
    ) -> PlateAlertPayload:
        ctx = info.context
        description = inputs.required_text(input.description, "input.description", 2000)
        fine = inputs.amount(input.fine_yuan, "input.fineYuan", Decimal("1000000"))
        points = inputs.whole(input.points, "input.points", 0, 12)
        days = inputs.whole(input.detention_days, "input.detentionDays", 0, 15)
        driver_id, driver_name = _driver(input)
        chosen = None if input.vehicle_id is None else inputs.pk(str(input.vehicle_id), "Vehicle", "input.vehicleId")
        async with transaction(ctx, "traffic") as session:
            row = await _alert(ctx, session, "recordViolation", input.alert_id)
            check_close("recordViolation", row.status)
            row.status = "closed"
            session.add(
                t.Violation(
                    alert_id=row.id,
                    vehicle_id=row.vehicle_id if chosen is None else chosen,
                    driver_id=driver_id,
                    driver_name=driver_name,
                    grid_id=row.grid_id,
                    description=description,
                    fine_yuan=fine,
                    points=points,
                    detention_days=days,
                    decided_on=today(ctx.settings.zone),
                )
            )
            await _record(session, row, "closed")
        return await _payload(ctx, row.id, input.client_mutation_id)

    @strawberry.mutation(description="解除误报预警 / dismiss a raised plate alert as a false alarm; closes it")
    async def dismiss_plate_alert(
        self, info: Info, input: Annotated[DismissInput, strawberry.argument(description="解除 / the dismissal")]
    ) -> PlateAlertPayload:
        ctx = info.context
        reason = inputs.required_text(input.reason, "input.reason", 500)
        async with transaction(ctx, "traffic") as session:
            row = await _alert(ctx, session, "dismissPlateAlert", input.alert_id)
            check_close("dismissPlateAlert", row.status)
            row.status = "closed"
            row.detail = f"{row.detail}\n解除预警:{reason}".strip()
            await _record(session, row, "closed")
        return await _payload(ctx, row.id, input.client_mutation_id)
