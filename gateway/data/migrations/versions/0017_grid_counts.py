"""counts: residents per grid, kept by triggers, for counts over the whole city

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.data.migrations.grid_counts import counting_triggers, counting_triggers_dropped, recount

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTS, COUNTED = "population_grid_count", ("resident", "grid_id")


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def _dialect() -> str:
    return str(op.get_context().dialect.name)


def upgrade_population() -> None:
    op.create_table(
        COUNTS,
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("grid_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "grid_key"),
    )
    table, area = COUNTED
    # Counted as they stand, then kept by the triggers (the migration runs with no writer about).
    for statement in [*recount(COUNTS, table, area), *counting_triggers(_dialect(), COUNTS, table, area)]:
        op.execute(statement)


def downgrade_population() -> None:
    for statement in counting_triggers_dropped(_dialect(), COUNTED[0]):
        op.execute(statement)
    op.drop_table(COUNTS)
