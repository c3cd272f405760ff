"""trusted documents; audit records name the document an operation ran from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Nullable: records of operations sent as text have none, and are hashed without them.
AUDIT_COLUMNS = (
    ("document_hash", sa.String(length=64)),
    ("document_client", sa.String(length=100)),
)


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_gateway() -> None:
    op.create_table(
        "gateway_document",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("operations", sa.String(length=400), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_index("ix_gateway_document_client", "gateway_document", ["client"], unique=False)
    # Plain ALTER TABLE, not a batch: a batch would rebuild the trail without its append-only triggers.
    for name, type_ in AUDIT_COLUMNS:
        op.add_column("gateway_audit", sa.Column(name, type_, nullable=True))


def downgrade_gateway() -> None:
    for name, _ in reversed(AUDIT_COLUMNS):
        op.drop_column("gateway_audit", name)
    op.drop_index("ix_gateway_document_client", table_name="gateway_document")
    op.drop_table("gateway_document")
