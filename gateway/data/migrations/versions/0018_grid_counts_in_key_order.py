"""counts: a move between grids takes the two grids' count rows in key order (no deadlock)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

from gateway.data.migrations.grid_counts import counting_function

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COUNTS, COUNTED = "population_grid_count", ("resident", "grid_id")


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    # The function of 0017 counted as exactly; only its order of locks differed.
    pass


def _nothing() -> None:
    pass


def upgrade_population() -> None:
    # SQLite has one writer at a time: its triggers cannot deadlock.
    if str(op.get_context().dialect.name) == "postgresql":
        op.execute(counting_function(COUNTS, *COUNTED, replace=True))
