"""GraphQL types of the traffic domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.compile import PLAN, Link, Many
from gateway.data import DateRange, load_many, load_one
from gateway.kernel import Info
from gateway.schema import COMPUTED_FROM, TESTS, Node, from_row
from resolvers.grid.area import AreaFilter
from resolvers.grid.lookups import staff_by_id
from resolvers.grid.types import Staff
from resolvers.traffic import tables as t

if TYPE_CHECKING:
    from resolvers.population.types import Resident

ResidentT = Annotated["Resident", strawberry.lazy("resolvers.population.types")]


@strawberry.enum(description="号牌预警类型 / kind of plate alert")
class AlertKind(Enum):
    ALTERED = strawberry.enum_value("altered", description="变造号牌 / altered plate")
    FAKE = strawberry.enum_value("fake", description="伪造号牌 / fake plate")
    CLONED = strawberry.enum_value("cloned", description="套牌 / cloned plate")
    UNREGISTERED = strawberry.enum_value("unregistered", description="未登记号牌 / plate not registered")
    MISMATCH = strawberry.enum_value("mismatch", description="车型或颜色不符 / type or colour mismatch")


@strawberry.enum(description="预警状态 / alert status")
class AlertStatus(Enum):
    RAISED = strawberry.enum_value("raised", description="已预警 / raised")
    DISPATCHED = strawberry.enum_value("dispatched", description="已指派 / dispatched to an officer")
    INTERCEPTED = strawberry.enum_value("intercepted", description="已拦截 / intercepted")
    CLOSED = strawberry.enum_value("closed", description="已办结 / closed")


@strawberry.input(description="预警筛选 / plate alert filter")
class PlateAlertFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    status: list[AlertStatus] | None = strawberry.field(
        default=None, description="状态(任一) / any of these", metadata={TESTS: ["PlateAlert.status"]}
    )
    kind: AlertKind | None = strawberry.field(
        default=None, description="类型 / kind", metadata={TESTS: ["PlateAlert.kind"]}
    )
    raised: DateRange | None = strawberry.field(
        default=None, description="预警日期 / date raised", metadata={TESTS: ["PlateAlert.raisedAt"]}
    )
    plate: str | None = strawberry.field(
        default=None, description="号牌 / plate", metadata={TESTS: ["PlateAlert.capture", "Capture.plate"]}
    )


@strawberry.type(description="违法处罚 / violation and its penalty")
class Violation(Node):
    description: str = strawberry.field(description="违法事实 / what was done")
    fine_yuan: Decimal = strawberry.field(description="罚款(元) / fine in yuan")
    points: int = strawberry.field(description="记分 / licence points")
    detention_days: int = strawberry.field(description="拘留天数 / days of detention")
    decided_on: date = strawberry.field(description="决定日期 / decided on")
    driver_name: str | None = strawberry.field(
        description="驾驶人姓名(非登记居民时) / the driver's name, when the driver is no registered resident"
    )
    vehicle_id: strawberry.Private[int | None]
    driver_id: strawberry.Private[int | None]

    @strawberry.field(description="涉事车辆 / the vehicle concerned")
    async def vehicle(self, info: Info) -> Vehicle | None:
        row = await load_one(info.context, t.Vehicle, self.vehicle_id)
        return None if row is None else vehicle(row)

    @strawberry.field(description="驾驶人(登记居民) / the driver, a registered resident, as you may see them")
    async def driver(self, info: Info) -> ResidentT | None:
        from resolvers.population.lookups import resident_by_id

        return await resident_by_id(info.context, self.driver_id)


@strawberry.type(description="机动车 / motor vehicle")
class Vehicle(Node):
    plate: str = strawberry.field(description="号牌 / number plate (津X…)")
    vehicle_type: str = strawberry.field(description="车辆类型 / vehicle type")
    colour: str = strawberry.field(description="车身颜色 / colour")
    brand: str = strawberry.field(description="品牌型号 / make and model")
    registered_on: date = strawberry.field(description="登记日期 / registered on")
    owner_id: strawberry.Private[int | None]

    @strawberry.field(description="所有人 / registered owner")
    async def owner(self, info: Info) -> ResidentT | None:
        from resolvers.population.lookups import resident_by_id

        return await resident_by_id(info.context, self.owner_id)

    @strawberry.field(description="违法记录 / violations", metadata={PLAN: Many("vehicle_id")})
    async def violations(self, info: Info) -> list[Violation]:
        rows = await load_many(info.context, t.Violation, t.Violation.vehicle_id, self.db_id)
        return [from_row(Violation, r) for r in rows]


@strawberry.type(description="卡口抓拍 / camera capture")
class Capture(Node):
    plate: str = strawberry.field(description="识别号牌 / plate as read")
    observed_type: str = strawberry.field(description="识别车型 / vehicle type as seen")
    observed_colour: str = strawberry.field(description="识别颜色 / colour as seen")
    captured_at: datetime = strawberry.field(description="抓拍时间 / captured at")
    camera_id: strawberry.Private[int]
    vehicle_id: strawberry.Private[int | None]

    @strawberry.field(
        description="抓拍地点 / where: road and place of the camera", metadata={COMPUTED_FROM: ["camera_id"]}
    )
    async def location(self, info: Info) -> str | None:
        row = await load_one(info.context, t.Camera, self.camera_id)
        return None if row is None else f"{row.road} {row.location}"

    @strawberry.field(
        description="登记车辆 / the registered vehicle with this plate", metadata={PLAN: Link("vehicle_id")}
    )
    async def vehicle(self, info: Info) -> Vehicle | None:
        row = await load_one(info.context, t.Vehicle, self.vehicle_id)
        return None if row is None else vehicle(row)


@strawberry.type(description="号牌预警 / plate alert")
class PlateAlert(Node):
    kind: AlertKind = strawberry.field(description="类型 / kind")
    status: AlertStatus = strawberry.field(description="状态 / status")
    raised_at: datetime = strawberry.field(description="预警时间 / raised at")
    intercepted_at: datetime | None = strawberry.field(description="拦截时间 / intercepted at")
    intercept_location: str | None = strawberry.field(description="拦截地点 / intercepted where")
    detail: str = strawberry.field(description="详情 / detail")
    capture_id: strawberry.Private[int]
    vehicle_id: strawberry.Private[int | None]
    dispatched_to_staff_id: strawberry.Private[int | None]

    @strawberry.field(description="抓拍记录 / the capture that raised it", metadata={PLAN: Link("capture_id")})
    async def capture(self, info: Info) -> Capture | None:
        row = await load_one(info.context, t.Capture, self.capture_id)
        return None if row is None else from_row(Capture, row)

    @strawberry.field(description="涉及车辆 / the vehicle registered to the plate", metadata={PLAN: Link("vehicle_id")})
    async def vehicle(self, info: Info) -> Vehicle | None:
        row = await load_one(info.context, t.Vehicle, self.vehicle_id)
        return None if row is None else vehicle(row)

    @strawberry.field(description="指派民警 / officer dispatched")
    async def dispatched_to(self, info: Info) -> Staff | None:
        return await staff_by_id(info.context, self.dispatched_to_staff_id)

    @strawberry.field(description="处罚 / violations decided on it", metadata={PLAN: Many("alert_id")})
    async def violations(self, info: Info) -> list[Violation]:
        rows = await load_many(info.context, t.Violation, t.Violation.alert_id, self.db_id)
        return [from_row(Violation, r) for r in rows]


def vehicle(row: t.Vehicle) -> Vehicle:
    return from_row(Vehicle, row)


def plate_alert(row: t.PlateAlert) -> PlateAlert:
    return from_row(PlateAlert, row)
