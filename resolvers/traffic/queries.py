"""Root fields of the traffic domain, and the links other domains use."""

from __future__ import annotations

import re
from typing import Annotated

import strawberry
from sqlalchemy import select

from gateway.compile import PLAN, ROOT_LIST
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
    root_page,
    within,
)
from gateway.kernel import BadUserInput, Context, Info
from gateway.schema import TESTS, from_row
from resolvers.grid.area import AreaFilter, in_area
from resolvers.traffic import tables as t
from resolvers.traffic.orders import CaptureOrder, PlateAlertOrder, VehicleOrder
from resolvers.traffic.types import Capture, PlateAlert, PlateAlertFilter, Vehicle, vehicle

_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}$")


def valid_plate(value: str, argument: str) -> str:
    plate = value.strip().upper().replace("·", "").replace(" ", "")
    if not _PLATE.match(plate):
        raise BadUserInput(
            f"{argument}: a plate is a province character, a letter and 5-6 letters or digits",
            argument=argument,
        )
    return plate


async def vehicles_of_owner(ctx: Context, owner_id: int) -> list[Vehicle]:
    return [vehicle(r) for r in await load_many(ctx, t.Vehicle, t.Vehicle.owner_id, owner_id)]


@strawberry.input(description="车辆筛选 / vehicle filter")
class VehicleFilter:
    area: AreaFilter | None = strawberry.field(
        default=None, description="车主所在辖区 / owner's area", metadata={TESTS: ["Vehicle.owner", "Resident.grid"]}
    )
    plate: str | None = strawberry.field(
        default=None, description="号牌(精确) / exact plate", metadata={TESTS: ["Vehicle.plate"]}
    )
    vehicle_type: str | None = strawberry.field(
        default=None, description="车辆类型 / vehicle type", metadata={TESTS: ["Vehicle.vehicleType"]}
    )


@strawberry.input(description="抓拍筛选 / capture filter")
class CaptureFilter:
    area: AreaFilter | None = strawberry.field(
        default=None, description="卡口所在辖区 / area of the camera", metadata={TESTS: ["Capture.location"]}
    )
    plate: str | None = strawberry.field(
        default=None, description="号牌(精确) / exact plate", metadata={TESTS: ["Capture.plate"]}
    )
    captured: DateRange | None = strawberry.field(
        default=None, description="抓拍日期 / capture date range", metadata={TESTS: ["Capture.capturedAt"]}
    )


@strawberry.type
class TrafficQuery:
    @strawberry.field(description="卡口抓拍列表 / camera captures", metadata={PLAN: ROOT_LIST})
    async def captures(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[CaptureOrder | None, OrderArg] = None,
        filter: Annotated[CaptureFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Capture]:
        stmt = select(t.Capture)
        if filter is not None:
            area = await in_area(info.context, t.Camera.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(t.Capture.camera_id.in_(select(t.Camera.id).where(area)))
            if filter.plate is not None:
                stmt = stmt.where(t.Capture.plate == valid_plate(filter.plate, "filter.plate"))
            stmt = within(stmt, t.Capture.captured_at, filter.captured, "filter.captured", info.context.settings.zone)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Capture, stmt, page, lambda row: from_row(Capture, row))

    @strawberry.field(description="车辆列表 / vehicles", metadata={PLAN: ROOT_LIST})
    async def vehicles(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[VehicleOrder | None, OrderArg] = None,
        filter: Annotated[VehicleFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Vehicle]:
        stmt = select(t.Vehicle)
        if filter is not None:
            area = await in_area(info.context, t.Vehicle.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(area)
            if filter.plate is not None:
                stmt = stmt.where(t.Vehicle.plate == valid_plate(filter.plate, "filter.plate"))
            if filter.vehicle_type is not None:
                stmt = stmt.where(t.Vehicle.vehicle_type == filter.vehicle_type)
        return await root_page(
            info.context, t.Vehicle, stmt, PageArgs.parse(info.context, first, after, last, before, order_by), vehicle
        )

    @strawberry.field(description="号牌预警列表 / plate alerts", metadata={PLAN: ROOT_LIST})
    async def plate_alerts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[PlateAlertOrder | None, OrderArg] = None,
        filter: Annotated[PlateAlertFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[PlateAlert]:
        stmt = select(t.PlateAlert)
        if filter is not None:
            area = await in_area(info.context, t.PlateAlert.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(area)
            if filter.status:
                stmt = stmt.where(t.PlateAlert.status.in_([s.value for s in filter.status]))
            if filter.kind is not None:
                stmt = stmt.where(t.PlateAlert.kind == filter.kind.value)
            if filter.plate is not None:
                plate = valid_plate(filter.plate, "filter.plate")
                stmt = stmt.where(t.PlateAlert.capture_id.in_(select(t.Capture.id).where(t.Capture.plate == plate)))
            stmt = within(stmt, t.PlateAlert.raised_at, filter.raised, "filter.raised", info.context.settings.zone)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.PlateAlert, stmt, page, lambda r: from_row(PlateAlert, r))
