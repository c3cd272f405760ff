"""Order inputs of the traffic domain's connections: one key each, ties broken by ID."""

from __future__ import annotations

import strawberry

from gateway.data import SortDirection
from gateway.schema import newest_key, sort_key


@strawberry.input(description="排序(一个键,同值按标识) / order of Vehicle items: one key, ties by ID")
class VehicleOrder:
    id: SortDirection | None = newest_key()
    plate: SortDirection | None = sort_key("Vehicle.plate", "按号牌 / by plate")
    registered_on: SortDirection | None = sort_key("Vehicle.registeredOn", "按登记日期 / by registration date")


@strawberry.input(description="排序(一个键,同值按标识) / order of PlateAlert items: one key, ties by ID")
class PlateAlertOrder:
    id: SortDirection | None = newest_key()
    raised_at: SortDirection | None = sort_key("PlateAlert.raisedAt", "按预警时间 / by time raised")
    status: SortDirection | None = sort_key("PlateAlert.status", "按状态 / by status")
    kind: SortDirection | None = sort_key("PlateAlert.kind", "按类型 / by kind")


@strawberry.input(description="排序(一个键,同值按标识) / order of captures: one key, ties by ID")
class CaptureOrder:
    id: SortDirection | None = newest_key()
    captured_at: SortDirection | None = sort_key("Capture.capturedAt", "按抓拍时间 / by capture time")
    plate: SortDirection | None = sort_key("Capture.plate", "按号牌 / by plate")
