"""Population domain tables (police-owned): residents and the registrations that feed them,
households, temporary stays, rental properties with guest check-ins, dog licence applications.

Every row hangs off a grid (``grid_id``, a key into the grid domain, which may live in
another database, so no foreign key is declared across domains).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.data import row_counts_model
from gateway.feed import outbox_model


class PopulationBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "population"


def household_number(household_id: int) -> str:
    """A household's number, assigned from its key: never chosen, so a number can never be
    found taken, which would tell a caller of a household it cannot see."""
    return f"H{household_id:010d}"


class Household(PopulationBase):
    __tablename__ = "household"
    __sensitive__ = ("address",)
    __area__ = "grid_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    head_resident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


# The number of residents, kept by triggers (migration 0019): what a count over the whole city reads.
PopulationRowCount = row_counts_model(PopulationBase, "population")


class Resident(PopulationBase):
    __tablename__ = "resident"
    __sensitive__ = ("id_number", "name", "phone", "address", "birth_date", "watch_flag", "criminal_flag")
    __area__ = "grid_id"
    __counted_by__ = PopulationRowCount
    __table_args__ = (
        Index("ix_resident_grid_id", "grid_id", "id"),
        Index("ix_resident_name", "name"),
        Index("ix_resident_registration_kind", "registration_kind"),
        Index("ix_resident_status", "status"),
        Index("ix_resident_registered_at", "registered_at"),
        # The records an officer's task list reads in its grids (see contributed.py): at city scale a
        # grid's residents lie scattered over the table, and reading all of them to keep the few to
        # review cost a count and a page 2 ms each (revision 0021).
        Index(
            "ix_resident_pending_review",
            "grid_id",
            postgresql_where=text("status = 'pending_review'"),
            sqlite_where=text("status = 'pending_review'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One person, one record: the database refuses a second row with the same ID number.
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str] = mapped_column(String(20), default="汉族")
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(120))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True, index=True)
    grid_id: Mapped[int] = mapped_column(Integer)
    registration_kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="active")
    watch_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    criminal_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Why the police returned a registration to whoever collected it.
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ResidentRegistration(PopulationBase):
    """登记: a record as a grid worker or committee collected it, for the police to review.

    Every registration is one of these, whether or not its ID number is already held: writing
    it reads no resident, so its answer cannot depend on one the collector may not see. The
    review either makes it a new resident or applies it to the one resident of its number
    (``resident_id`` then names that record).
    """

    __tablename__ = "resident_registration"
    __sensitive__ = ("id_number", "name", "phone", "address", "birth_date")
    __area__ = "grid_id"
    __table_args__ = (
        Index("ix_resident_registration_grid_id", "grid_id", "id"),
        Index("ix_resident_registration_status", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not unique: the same person may be collected again before the police have reviewed.
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(120))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True)
    grid_id: Mapped[int] = mapped_column(Integer)
    registration_kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="pending_review")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Who collected it (a staff member): the one who corrects and resubmits it when returned.
    collector_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A transfer for review: this row asks the area where the number is held to let the
    # registration ``transfer_of`` (collected elsewhere) take the record over.
    transfer_of: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # This registration's number is held in another area, whose officer has been asked.
    awaits_holder_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TemporaryStay(PopulationBase):
    """暂住登记: a floating resident's registered stay at an address."""

    __tablename__ = "temporary_stay"
    __sensitive__ = ("address",)
    __area__ = "grid_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    address: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(60))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class RentalProperty(PopulationBase):
    """网约房: a short-term rental whose landlord checks guests in on a phone."""

    __tablename__ = "rental_property"
    __sensitive__ = ("address",)
    __area__ = "grid_id"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200))
    rooms: Mapped[int] = mapped_column(Integer, default=1)
    # The partner platform (its principal id) that operates the property and may check guests
    # in at it; None where no platform does.
    platform_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)


class GuestCheckIn(PopulationBase):
    __tablename__ = "guest_check_in"
    __sensitive__ = ("guest_name", "guest_id_number", "flag_note")
    __area__ = "grid_id"
    __table_args__ = (Index("ix_guest_check_in_property", "property_id", "checked_in_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("rental_property.id"))
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    # As presented, for a guest the register does not hold under that name; a guest who matched a
    # resident is a link (``resident_id``) and these stay empty: the record is read instead.
    guest_name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    guest_id_number: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), nullable=True, index=True)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verification: Mapped[str] = mapped_column(String(12), default="pending")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The police's handling of a flag: none (never flagged), flagged (to handle), verified, cleared
    # or escalated (``workflow.CHECK_IN_FLAG``), with the officer's note, when and by whom.
    flag_status: Mapped[str] = mapped_column(String(12), default="none", index=True)
    flag_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    flag_handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    flag_handled_by_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DogLicence(PopulationBase):
    """犬证申请: resident applies → officer pre-reviews (初审) → approved / rejected."""

    __tablename__ = "dog_licence"
    __sensitive__ = ("reason",)
    __area__ = "grid_id"
    __table_args__ = (Index("ix_dog_licence_status", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    dog_name: Mapped[str] = mapped_column(String(40))
    breed: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="applied")
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


PopulationOutbox = outbox_model(PopulationBase, "population")
