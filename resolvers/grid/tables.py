"""Grid domain tables: places (district → street → community → grid), police grids and their
binding to grids, and the staff and partner agencies who use the gateway."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.feed import outbox_model


class GridBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "grid"


class District(GridBase):
    __tablename__ = "district"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(40))


class Street(GridBase):
    __tablename__ = "street"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class Community(GridBase):
    __tablename__ = "community"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class Grid(GridBase):
    __tablename__ = "grid"
    __area__ = "id"
    __table_args__ = (Index("ix_grid_risk_colour", "risk_colour"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    risk_colour: Mapped[str] = mapped_column(String(8), default="blue")


class PoliceStation(GridBase):
    __tablename__ = "police_station"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))


class PoliceGrid(GridBase):
    __tablename__ = "police_grid"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("police_station.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class GridBinding(GridBase):
    """警格网格绑定: one police grid covers one or more grids; a grid has one police grid."""

    __tablename__ = "grid_binding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    police_grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), unique=True)


class Staff(GridBase):
    """Officers, committee staff, grid workers, analysts and auditors: the gateway's staff principals.

    The area column that applies depends on the role: a grid worker's grid, a committee's
    community, an officer's police grid.
    """

    __tablename__ = "staff"
    __sensitive__ = ("phone",)
    __table_args__ = (Index("ix_staff_role", "role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(60), default="")
    agency: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True, index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True, index=True)
    police_grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Agency(GridBase):
    """A registered partner agency (judicial office, traffic-camera system) holding scoped tokens."""

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(32))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"), nullable=True, index=True)
    scopes: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


GridOutbox = outbox_model(GridBase, "grid")
