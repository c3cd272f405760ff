"""registrations kept for review; the platform operating a rental property

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:05:52.536197
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_population() -> None:
    op.create_table(
        "resident_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("ethnicity", sa.String(length=20), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("building", sa.String(length=120), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("registration_kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.create_index("ix_resident_registration_grid_id", ["grid_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_registration_id_number"), ["id_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_registration_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index("ix_resident_registration_status", ["status"], unique=False)

    # Existing properties belong to no platform until assigned: none of them is open to a
    # platform's check-ins by default.
    with op.batch_alter_table("rental_property", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_rental_property_platform_id"), ["platform_id"], unique=False)


def downgrade_population() -> None:
    with op.batch_alter_table("rental_property", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rental_property_platform_id"))
        batch_op.drop_column("platform_id")

    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_resident_registration_status")
        batch_op.drop_index(batch_op.f("ix_resident_registration_resident_id"))
        batch_op.drop_index(batch_op.f("ix_resident_registration_id_number"))
        batch_op.drop_index("ix_resident_registration_grid_id")

    op.drop_table("resident_registration")
