"""counts: PostgreSQL changes a table's count once per transaction at commit, not once per row

A transaction's rows add to a number kept for it (a transaction-local setting); the deferred trigger
adds that number to the count once. Changed once per row, the count row took a version per row that
each later change walked past: a commit as slow as the square of its rows, under the commit-order lock.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:00:00.000000
"""

from __future__ import annotations

from alembic import op

from gateway.data.counts import counting_triggers, counting_triggers_dropped
from gateway.data.migrations import row_counts

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ROW_COUNTS, TABLE = "population_row_count", "resident"


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def _postgres() -> bool:
    # SQLite's triggers change the count in place, at once: nothing to change there.
    return str(op.get_context().dialect.name) == "postgresql"


def upgrade_population() -> None:
    if _postgres():
        # The count itself is unchanged: the migration runs with no writer about.
        for statement in [
            *row_counts.counting_triggers_dropped("postgresql", TABLE),
            *counting_triggers("postgresql", ROW_COUNTS, TABLE),
        ]:
            op.execute(statement)


def downgrade_population() -> None:
    if _postgres():
        for statement in [
            *counting_triggers_dropped("postgresql", TABLE),
            *row_counts.counting_triggers("postgresql", ROW_COUNTS, TABLE),
        ]:
            op.execute(statement)
