"""audit records name the token, how each field was read, and the look-ups made

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Nullable: records written before this revision have none and are hashed without them.
COLUMNS = (
    ("token_id", sa.String(length=64)),
    ("access", sa.Text()),
    ("probes", sa.Text()),
)


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_gateway() -> None:
    # Plain ALTER TABLE, not a batch: SQLite can add a column in place, and a batch would
    # rebuild the table without the triggers that keep it append-only.
    for name, type_ in COLUMNS:
        op.add_column("gateway_audit", sa.Column(name, type_, nullable=True))
    op.create_index("ix_gateway_audit_token", "gateway_audit", ["token_id"], unique=False)


def downgrade_gateway() -> None:
    op.drop_index("ix_gateway_audit_token", table_name="gateway_audit")
    for name, _ in reversed(COLUMNS):
        op.drop_column("gateway_audit", name)
