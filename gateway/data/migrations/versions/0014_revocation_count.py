"""tokens: a count of revocations, which workers holding live tokens in memory watch

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 18:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_gateway() -> None:
    table = op.create_table(
        "gateway_revocation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_gateway_revocation_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "count": 0}])


def downgrade_gateway() -> None:
    op.drop_table("gateway_revocation")
