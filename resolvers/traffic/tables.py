"""Traffic domain tables (交管): vehicles, cameras, captures, plate alerts, violations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.feed import outbox_model


class TrafficBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "traffic"


class Vehicle(TrafficBase):
    __tablename__ = "vehicle"
    __sensitive__ = ("plate",)
    __area__ = "grid_id"
    __table_args__ = (Index("ix_vehicle_grid_id", "grid_id", "id"), Index("ix_vehicle_type", "vehicle_type"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(12), unique=True)
    vehicle_type: Mapped[str] = mapped_column(String(24))
    colour: Mapped[str] = mapped_column(String(12))
    brand: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The owner's grid, copied at registration so area filters need no cross-domain join.
    grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    registered_on: Mapped[date] = mapped_column(Date)


class Camera(TrafficBase):
    __tablename__ = "camera"
    __area__ = "grid_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    road: Mapped[str] = mapped_column(String(80))
    location: Mapped[str] = mapped_column(String(120))
    grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class Capture(TrafficBase):
    __tablename__ = "capture"
    __sensitive__ = ("plate",)
    __area__ = ("camera_id", Camera)
    __table_args__ = (Index("ix_capture_plate", "plate"), Index("ix_capture_captured_at", "captured_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"), index=True)
    plate: Mapped[str] = mapped_column(String(12))
    observed_type: Mapped[str] = mapped_column(String(24))
    observed_colour: Mapped[str] = mapped_column(String(12))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), nullable=True, index=True)


class PlateAlert(TrafficBase):
    __tablename__ = "plate_alert"
    __sensitive__ = ("intercept_location",)
    __area__ = "grid_id"
    __table_args__ = (
        Index("ix_plate_alert_status", "status"),
        Index("ix_plate_alert_kind", "kind"),
        Index("ix_plate_alert_raised_at", "raised_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("capture.id"), unique=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), nullable=True, index=True)
    grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dispatched_to_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    intercepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    intercept_location: Mapped[str | None] = mapped_column(String(120), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Violation(TrafficBase):
    __tablename__ = "violation"
    __sensitive__ = ("driver_name",)
    # Where the vehicle was stopped (its alert's grid), so the officer who decided the penalty
    # sees it even when the plate was unregistered or the owner lives elsewhere.
    __area__ = "grid_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("plate_alert.id"), nullable=True, index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), nullable=True, index=True)
    description: Mapped[str] = mapped_column(Text)
    fine_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    points: Mapped[int] = mapped_column(Integer, default=0)
    detention_days: Mapped[int] = mapped_column(Integer, default=0)
    decided_on: Mapped[date] = mapped_column(Date)
    grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The driver: a link to the resident record when the driver is registered, else the name given.
    driver_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    driver_name: Mapped[str | None] = mapped_column(String(40), nullable=True)


TrafficOutbox = outbox_model(TrafficBase, "traffic")
