"""audit trail: hash-chained records, their head, and triggers that keep both append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:04:22.134972
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

SQLITE_TRIGGERS = (
    """CREATE TRIGGER gateway_audit_no_update BEFORE UPDATE ON gateway_audit
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER gateway_audit_no_delete BEFORE DELETE ON gateway_audit
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER gateway_audit_head_forward BEFORE UPDATE ON gateway_audit_head
    WHEN NOT (NEW.id = OLD.id AND (NEW.seq = OLD.seq + 1 OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)))
    BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END""",
    """CREATE TRIGGER gateway_audit_head_no_delete BEFORE DELETE ON gateway_audit_head
    BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END""",
)

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION gateway_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit records are append-only';
    END $$""",
    """CREATE TRIGGER gateway_audit_append_only BEFORE UPDATE OR DELETE ON gateway_audit
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_refuse()""",
    """CREATE TRIGGER gateway_audit_no_truncate BEFORE TRUNCATE ON gateway_audit
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_audit_refuse()""",
    """CREATE FUNCTION gateway_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id
           AND (NEW.seq = OLD.seq + 1 OR (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the audit head only moves forward';
    END $$""",
    """CREATE TRIGGER gateway_audit_head_forward BEFORE UPDATE OR DELETE ON gateway_audit_head
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_head_forward()""",
    """CREATE TRIGGER gateway_audit_head_no_truncate BEFORE TRUNCATE ON gateway_audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_audit_head_forward()""",
)

SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS gateway_audit_head_no_delete",
    "DROP TRIGGER IF EXISTS gateway_audit_head_forward",
    "DROP TRIGGER IF EXISTS gateway_audit_no_delete",
    "DROP TRIGGER IF EXISTS gateway_audit_no_update",
)

POSTGRES_DROPS = (
    "DROP TRIGGER IF EXISTS gateway_audit_head_no_truncate ON gateway_audit_head",
    "DROP TRIGGER IF EXISTS gateway_audit_head_forward ON gateway_audit_head",
    "DROP FUNCTION IF EXISTS gateway_audit_head_forward()",
    "DROP TRIGGER IF EXISTS gateway_audit_no_truncate ON gateway_audit",
    "DROP TRIGGER IF EXISTS gateway_audit_append_only ON gateway_audit",
    "DROP FUNCTION IF EXISTS gateway_audit_refuse()",
)


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def _dialect() -> str:
    return str(op.get_context().dialect.name)


def upgrade_gateway() -> None:
    op.create_table(
        "gateway_audit",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("operation_name", sa.String(length=200), nullable=True),
        sa.Column("operation_hash", sa.String(length=64), nullable=False),
        sa.Column("operation_type", sa.String(length=16), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("row_ids", sa.Text(), nullable=False),
        sa.Column("redacted", sa.Text(), nullable=False),
        sa.Column("denied", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("gateway_audit", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_audit_principal", ["principal_id"], unique=False)
        batch_op.create_index("ix_gateway_audit_recorded_at", ["recorded_at"], unique=False)
        batch_op.create_index("ix_gateway_audit_role", ["role"], unique=False)

    head = op.create_table(
        "gateway_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_gateway_audit_head_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])

    for statement in POSTGRES_TRIGGERS if _dialect() == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade_gateway() -> None:
    for statement in POSTGRES_DROPS if _dialect() == "postgresql" else SQLITE_DROPS:
        op.execute(statement)

    op.drop_table("gateway_audit_head")
    with op.batch_alter_table("gateway_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_audit_role")
        batch_op.drop_index("ix_gateway_audit_recorded_at")
        batch_op.drop_index("ix_gateway_audit_principal")

    op.drop_table("gateway_audit")


def upgrade_population() -> None:
    pass


def downgrade_population() -> None:
    pass


def upgrade_grid() -> None:
    pass


def downgrade_grid() -> None:
    pass


def upgrade_dispute() -> None:
    pass


def downgrade_dispute() -> None:
    pass


def upgrade_volunteer() -> None:
    pass


def downgrade_volunteer() -> None:
    pass


def upgrade_traffic() -> None:
    pass


def downgrade_traffic() -> None:
    pass
