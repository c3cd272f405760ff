"""Dispute domain tables (committees and judicial office): disputes, their parties,
mediators, mediation sessions, agreements and follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.feed import outbox_model


class DisputeBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "dispute"


class Dispute(DisputeBase):
    __tablename__ = "dispute"
    __sensitive__ = ("description",)
    __area__ = "grid_id"
    __table_args__ = (
        Index("ix_dispute_grid_id", "grid_id", "id"),
        Index("ix_dispute_status", "status"),
        Index("ix_dispute_grid_status", "grid_id", "status"),
        Index("ix_dispute_category", "category"),
        Index("ix_dispute_reported_at", "reported_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text)
    grid_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(Integer, index=True)
    reporter_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class DisputeParty(DisputeBase):
    """当事人: a party to a dispute — a link to the resident record when the person is one (no copy
    of their details), else the details given."""

    __tablename__ = "dispute_party"
    __sensitive__ = ("name", "phone", "id_number")
    __area__ = ("dispute_id", Dispute)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    # Given only for a party who is not a registered resident; a resident's come from the record.
    name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    id_number: Mapped[str | None] = mapped_column(String(18), nullable=True)


class Mediator(DisputeBase):
    __tablename__ = "mediator"
    __sensitive__ = ("phone",)
    # A mediator's phone is a mediation worker's phone (for staff mediators, a copy of the staff
    # record's): one rule, Staff.phone, governs it wherever it is read.
    __reads__: ClassVar[dict[str, str]] = {"phone": "Staff.phone"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    organisation: Mapped[str] = mapped_column(String(80))
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)


class MediationSession(DisputeBase):
    __tablename__ = "mediation_session"
    __sensitive__ = ("notes",)
    __area__ = ("dispute_id", Dispute)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text)


class SessionMediator(DisputeBase):
    __tablename__ = "session_mediator"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mediation_session.id"), index=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)


class Agreement(DisputeBase):
    __tablename__ = "agreement"
    __sensitive__ = ("terms", "amount")
    __area__ = ("dispute_id", Dispute)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), unique=True)
    terms: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    signed_at: Mapped[date] = mapped_column(Date)
    via_judicial_office: Mapped[bool] = mapped_column(default=False)


class FollowUp(DisputeBase):
    __tablename__ = "follow_up"
    __sensitive__ = ("note",)
    __area__ = ("dispute_id", Dispute)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text)
    by_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


DisputeOutbox = outbox_model(DisputeBase, "dispute")
