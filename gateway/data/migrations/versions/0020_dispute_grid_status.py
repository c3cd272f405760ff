"""dispute: an index on (grid_id, status), for the task lists of an area at city scale

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 15:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def upgrade_dispute() -> None:
    # An officer's list asks for the disputes of a few grids in a few states. With the grid's index
    # and the status index apart, PostgreSQL read every dispute of the city in a common state (a
    # bitmap of thousands) to keep the few in those grids.
    op.create_index("ix_dispute_grid_status", "dispute", ["grid_id", "status"])


def downgrade_dispute() -> None:
    op.drop_index("ix_dispute_grid_status", table_name="dispute")
