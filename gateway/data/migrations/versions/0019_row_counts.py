"""counts: one row per counted table, added at commit, instead of one per grid

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.data.counts import counting_triggers, counting_triggers_dropped, recount
from gateway.data.migrations import grid_counts

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

GRID_COUNTS, ROW_COUNTS, COUNTED = "population_grid_count", "population_row_count", ("resident", "grid_id")


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
    table, _ = COUNTED
    for statement in grid_counts.counting_triggers_dropped(_dialect(), table):
        op.execute(statement)
    op.drop_table(GRID_COUNTS)
    op.create_table(
        ROW_COUNTS,
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name"),
    )
    # Counted as they stand, then kept by the triggers (the migration runs with no writer about).
    for statement in [*recount(ROW_COUNTS, table), *counting_triggers(_dialect(), ROW_COUNTS, table)]:
        op.execute(statement)


def downgrade_population() -> None:
    table, area = COUNTED
    for statement in counting_triggers_dropped(_dialect(), table):
        op.execute(statement)
    op.drop_table(ROW_COUNTS)
    op.create_table(
        GRID_COUNTS,
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("grid_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "grid_key"),
    )
    statements = [
        *grid_counts.recount(GRID_COUNTS, table, area),
        *grid_counts.counting_triggers(_dialect(), GRID_COUNTS, table, area),
    ]
    for statement in statements:
        op.execute(statement)
