"""audit: a record's insert also indexes it and moves the chain head (triggers), so an append is two statements

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The head's guard (revision 0002) still lets it move one record at a time: a row trigger does exactly that.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER gateway_audit_appended AFTER INSERT ON gateway_audit
    BEGIN
        INSERT INTO gateway_audit_touch (key, seq)
            SELECT value, NEW.seq FROM json_each(coalesce(NEW.touch_keys, '[]'));
        UPDATE gateway_audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    END""",
)

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION gateway_audit_appended() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO gateway_audit_touch (key, seq)
            SELECT k, NEW.seq FROM jsonb_array_elements_text(coalesce(NEW.touch_keys, '[]')::jsonb) AS k;
        UPDATE gateway_audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER gateway_audit_appended AFTER INSERT ON gateway_audit
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_appended()""",
    # The commit-order lock (gateway.data.order), then the head, in one round trip. A VOLATILE function
    # reads with a new snapshot per statement, so the head it returns is the one the last holder committed.
    """CREATE FUNCTION gateway_audit_take_head(lock_key bigint) RETURNS TABLE (seq integer, hash varchar)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        RETURN QUERY SELECT h.seq, h.hash FROM gateway_audit_head AS h WHERE h.id = 1;
    END $$""",
)

SQLITE_DROPS = ("DROP TRIGGER IF EXISTS gateway_audit_appended",)
POSTGRES_DROPS = (
    "DROP TRIGGER IF EXISTS gateway_audit_appended ON gateway_audit",
    "DROP FUNCTION IF EXISTS gateway_audit_appended()",
    "DROP FUNCTION IF EXISTS gateway_audit_take_head(bigint)",
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
    # Plain ALTER TABLE, not a batch: a batch would rebuild the trail without its append-only triggers.
    # The index keys each record adds to gateway_audit_touch; derived from row_ids and probes, so outside the hash.
    op.add_column("gateway_audit", sa.Column("touch_keys", sa.Text(), nullable=True))
    for statement in POSTGRES_TRIGGERS if _dialect() == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade_gateway() -> None:
    for statement in POSTGRES_DROPS if _dialect() == "postgresql" else SQLITE_DROPS:
        op.execute(statement)
    op.drop_column("gateway_audit", "touch_keys")
