"""the article's stories closed: altered plates' drivers, parties and guests as links, check-ins
handled, registrations resubmitted

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_traffic() -> None:
    # A violation names its driver: a link to the resident record, or a name for anyone else.
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("driver_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("driver_name", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_violation_driver_id"), ["driver_id"], unique=False)
    # An alert's time is its capture's.
    op.execute(
        "UPDATE plate_alert SET raised_at = (SELECT capture.captured_at FROM capture "
        "WHERE capture.id = plate_alert.capture_id)"
    )


def downgrade_traffic() -> None:
    with op.batch_alter_table("violation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_violation_driver_id"))
        batch_op.drop_column("driver_name")
        batch_op.drop_column("driver_id")


def upgrade_population() -> None:
    # A registration remembers who collected it: the one who corrects and resubmits it.
    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collector_staff_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_resident_registration_collector_staff_id"), ["collector_staff_id"], unique=False
        )
    # The police's handling of a flagged check-in; flags raised before stay to be handled.
    with op.batch_alter_table("guest_check_in", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag_status", sa.String(length=12), nullable=False, server_default="none"))
        batch_op.add_column(sa.Column("flag_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("flag_handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("flag_handled_by_staff_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_guest_check_in_flag_status"), ["flag_status"], unique=False)
    op.execute(sa.text("UPDATE guest_check_in SET flag_status = 'flagged' WHERE flagged"))
    # A guest who matched a resident is a link to the record: the copied name and number go.
    with op.batch_alter_table("guest_check_in", schema=None) as batch_op:
        batch_op.alter_column("guest_name", existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column("guest_id_number", existing_type=sa.String(length=18), nullable=True)
    op.execute(
        sa.text("UPDATE guest_check_in SET guest_name = NULL, guest_id_number = NULL WHERE resident_id IS NOT NULL")
    )
    with op.batch_alter_table("guest_check_in", schema=None) as batch_op:
        batch_op.alter_column("flag_status", server_default=None)


def downgrade_population() -> None:
    # The copies are not restored; empty values stand in for them.
    op.execute(sa.text("UPDATE guest_check_in SET guest_name = '' WHERE guest_name IS NULL"))
    op.execute(sa.text("UPDATE guest_check_in SET guest_id_number = '' WHERE guest_id_number IS NULL"))
    with op.batch_alter_table("guest_check_in", schema=None) as batch_op:
        batch_op.alter_column("guest_name", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("guest_id_number", existing_type=sa.String(length=18), nullable=False)
    with op.batch_alter_table("guest_check_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_check_in_flag_status"))
        batch_op.drop_column("flag_handled_by_staff_id")
        batch_op.drop_column("flag_handled_at")
        batch_op.drop_column("flag_note")
        batch_op.drop_column("flag_status")
    with op.batch_alter_table("resident_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_registration_collector_staff_id"))
        batch_op.drop_column("collector_staff_id")


def upgrade_dispute() -> None:
    # A party who is a registered resident is a link to the record: the copied details go.
    with op.batch_alter_table("dispute_party", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=40), nullable=True)
    op.execute(
        sa.text("UPDATE dispute_party SET name = NULL, phone = NULL, id_number = NULL WHERE resident_id IS NOT NULL")
    )


def downgrade_dispute() -> None:
    # The copies are not restored (they live in the population domain's database); a name is needed.
    op.execute(sa.text("UPDATE dispute_party SET name = '' WHERE name IS NULL"))
    with op.batch_alter_table("dispute_party", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=40), nullable=False)
