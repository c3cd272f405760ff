"""audit: the commit-order lock, the head, the chain hashes and the records' insert in one call (PostgreSQL)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# ``records`` is a JSON array of the records' columns but seq, recorded_at, prev_hash and hash; ``pieces``
# holds three texts per record: its canonical JSON cut where its time and its seq go (gateway.audit.trail).
# The hash is the one chain_hash computes in Python: SHA-256 of prev_hash followed by the canonical JSON
# in UTF-8, the time written as Python's isoformat(timespec="microseconds") writes a UTC time. The time
# and the seq are taken under the lock, so both grow with the chain. The insert trigger (revision 0013)
# indexes each record and moves the head one record at a time.
POSTGRES_FUNCTIONS = (
    """CREATE FUNCTION gateway_audit_append(lock_key bigint, records text, pieces text[])
    RETURNS TABLE (seq integer, hash varchar) LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
        given jsonb := records::jsonb;
        last_seq integer;
        last_hash varchar;
        made varchar;
        stamp timestamptz;
    BEGIN
        PERFORM pg_advisory_xact_lock(lock_key);
        SELECT h.seq, h.hash INTO last_seq, last_hash FROM gateway_audit_head AS h WHERE h.id = 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the audit chain''s head is missing: run `gateway db upgrade`';
        END IF;
        FOR i IN 0 .. jsonb_array_length(given) - 1 LOOP
            stamp := clock_timestamp();
            made := encode(sha256(convert_to(
                last_hash || pieces[3 * i + 1]
                || to_char(stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
                || pieces[3 * i + 2] || (last_seq + 1)::text || pieces[3 * i + 3],
                'UTF8')), 'hex');
            INSERT INTO gateway_audit SELECT * FROM jsonb_populate_record(NULL::gateway_audit, (given -> i)
                || jsonb_build_object('seq', last_seq + 1, 'recorded_at', stamp, 'prev_hash', last_hash, 'hash', made));
            last_seq := last_seq + 1;
            last_hash := made;
            seq := last_seq;
            hash := made;
            RETURN NEXT;
        END LOOP;
    END $$""",
)
POSTGRES_DROPS = ("DROP FUNCTION IF EXISTS gateway_audit_append(bigint, text, text[])",)


def upgrade(engine_name: str) -> None:
    # A domain added after this migration has nothing to do in it.
    globals().get(f"upgrade_{engine_name}", _nothing)()


def downgrade(engine_name: str) -> None:
    globals().get(f"downgrade_{engine_name}", _nothing)()


def _nothing() -> None:
    pass


def _postgres() -> bool:
    # SQLite appends as before: its write lock orders the chain, and the hashes are made in Python.
    return str(op.get_context().dialect.name) == "postgresql"


def upgrade_gateway() -> None:
    for statement in POSTGRES_FUNCTIONS if _postgres() else ():
        op.execute(statement)


def downgrade_gateway() -> None:
    for statement in POSTGRES_DROPS if _postgres() else ():
        op.execute(statement)
