"""Volunteer domain tables (群防群治, committees): branded teams, volunteers, patrols."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, MetaData, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.feed import outbox_model

CURRENT = "status <> 'left'"


class VolunteerBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "volunteer"


class VolunteerTeam(VolunteerBase):
    __tablename__ = "volunteer_team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    brand: Mapped[str] = mapped_column(String(40))
    district_id: Mapped[int] = mapped_column(Integer, index=True)
    founded_on: Mapped[date] = mapped_column(Date)


class Volunteer(VolunteerBase):
    __tablename__ = "volunteer"
    __sensitive__ = ("skills",)
    __area__ = "grid_id"
    __table_args__ = (
        Index("ix_volunteer_grid_id", "grid_id", "id"),
        Index("ix_volunteer_status", "status"),
        # A volunteer is a resident: one current profile per resident. One who left an area for
        # another keeps the old profile there (status "left"), with its history.
        Index(
            "uq_volunteer_current_resident",
            "resident_id",
            unique=True,
            sqlite_where=text(CURRENT),
            postgresql_where=text(CURRENT),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    grid_id: Mapped[int] = mapped_column(Integer)
    skills: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    joined_on: Mapped[date] = mapped_column(Date)


class Patrol(VolunteerBase):
    """A patrol shift of a team in a grid."""

    __tablename__ = "patrol"
    __area__ = "grid_id"
    __table_args__ = (Index("ix_patrol_grid_starts", "grid_id", "starts_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_team.id"), index=True)
    grid_id: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    route: Mapped[str] = mapped_column(String(200))


class PatrolMember(VolunteerBase):
    __tablename__ = "patrol_member"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)


VolunteerOutbox = outbox_model(VolunteerBase, "volunteer")
