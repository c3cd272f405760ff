"""a notice's contact phone

Revision ID: notice_0002
Revises: notice_0001
Create Date: 2026-12-01 00:41:02.516310
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "notice_0002"
down_revision = "notice_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=20), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("contact")
