"""transfers of registrations for review; a volunteer who leaves keeps the old profile

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Alembic names the unnamed unique constraint this way in SQLite's batch mode; PostgreSQL named it itself.
_UNIQUE_RESIDENT = {"sqlite": "uq_volunteer_resident_id", "postgresql": "volunteer_resident_id_key"}
_ONE_CURRENT_PROFILE = "status <> 'left'"


def upgrade(engine_name: str) -> None:
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_population() -> None:
    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("awaits_holder_review", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f("ix_resident_registration_transfer_of"), ["transfer_of"], unique=False)


def downgrade_population() -> None:
    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_registration_transfer_of"))
        batch_op.drop_column("awaits_holder_review")
        batch_op.drop_column("transfer_of")


def upgrade_volunteer() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table(
        "volunteer", schema=None, naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}
    ) as batch_op:
        batch_op.drop_constraint(_UNIQUE_RESIDENT.get(dialect, "uq_volunteer_resident_id"), type_="unique")
    op.create_index(
        "uq_volunteer_current_resident",
        "volunteer",
        ["resident_id"],
        unique=True,
        sqlite_where=sa.text(_ONE_CURRENT_PROFILE),
        postgresql_where=sa.text(_ONE_CURRENT_PROFILE),
    )


def downgrade_volunteer() -> None:
    op.drop_index("uq_volunteer_current_resident", table_name="volunteer")
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_volunteer_resident_id", ["resident_id"])
