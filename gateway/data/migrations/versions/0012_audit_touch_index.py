"""audit: a side table of the rows (and the IDs asked for) each record touched, for accessLog

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:00:00.000000
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 1000

SQLITE_TRIGGERS = (
    """CREATE TRIGGER gateway_audit_touch_no_update BEFORE UPDATE ON gateway_audit_touch
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    """CREATE TRIGGER gateway_audit_touch_no_delete BEFORE DELETE ON gateway_audit_touch
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
)

# gateway_audit_refuse() is revision 0002's.
POSTGRES_TRIGGERS = (
    """CREATE TRIGGER gateway_audit_touch_append_only BEFORE UPDATE OR DELETE ON gateway_audit_touch
    FOR EACH ROW EXECUTE FUNCTION gateway_audit_refuse()""",
    """CREATE TRIGGER gateway_audit_touch_no_truncate BEFORE TRUNCATE ON gateway_audit_touch
    FOR EACH STATEMENT EXECUTE FUNCTION gateway_audit_refuse()""",
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


def _keys(row_ids: str, probes: str | None) -> set[str]:
    # As gateway.audit.index.touch_keys at the time of writing (a migration does not import the code it precedes).
    keys = {f"{kind}:{int(pk)}" for kind, ids in json.loads(row_ids).items() for pk in ids}
    for probe in json.loads(probes or "[]"):
        for name, hashed in probe.get("arguments", {}).items():
            if re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1] == "id":
                keys.add(f"#{hashed}")
    return keys


def upgrade_gateway() -> None:
    touch = op.create_table(
        "gateway_audit_touch",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", "seq"),
    )
    op.create_index("ix_gateway_audit_touch_seq", "gateway_audit_touch", ["seq"], unique=False)
    # Records written before this revision are indexed from what they hold.
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT seq, row_ids, probes FROM gateway_audit WHERE seq > :last ORDER BY seq LIMIT :n"
            ).bindparams(last=last, n=BATCH)
        ).all()
        if not rows:
            break
        values = [{"key": key, "seq": seq} for seq, row_ids, probes in rows for key in sorted(_keys(row_ids, probes))]
        if values:
            op.bulk_insert(touch, values)
        last = rows[-1][0]
    for statement in POSTGRES_TRIGGERS if _dialect() == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade_gateway() -> None:
    op.drop_table("gateway_audit_touch")
