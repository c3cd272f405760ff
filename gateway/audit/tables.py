"""The audit trail's tables, in the gateway's own database: the records and the chain head.

Both are append-only in the database itself: the migration installs triggers that refuse
UPDATE and DELETE of a record, and any change of the head but one step forward.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data import GatewayBase

GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditRecord(GatewayBase):
    """One audited operation, chained to the one before by ``prev_hash``.

    Collections (``fields``, ``row_ids``, ``redacted``, ``denied``, ``access``, ``probes``) are canonical JSON text.
    """

    __tablename__ = "gateway_audit"
    __table_args__ = (
        Index("ix_gateway_audit_recorded_at", "recorded_at"),
        Index("ix_gateway_audit_principal", "principal_id"),
        Index("ix_gateway_audit_role", "role"),
        Index("ix_gateway_audit_operation", "operation_name"),
        Index("ix_gateway_audit_token", "token_id"),
    )

    # Assigned from the chain head, never by the database: a sequence leaves gaps on rollback.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    principal_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(200), nullable=True)
    operation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    operation_hash: Mapped[str] = mapped_column(String(64))
    operation_type: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)
    row_ids: Mapped[str] = mapped_column(Text)
    redacted: Mapped[str] = mapped_column(Text)
    denied: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    # Empty on records written before revision 0007, which are hashed without them.
    token_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    access: Mapped[str | None] = mapped_column(Text, nullable=True)
    probes: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The trusted or persisted document the operation ran from (revision 0009); empty for a text document.
    document_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    document_client: Mapped[str | None] = mapped_column(String(100), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The keys the insert trigger adds to gateway_audit_touch (revision 0013): derived from ``row_ids``
    # and ``probes``, so outside the hash; empty on older records, indexed when that table was made.
    touch_keys: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def id(self) -> int:
        # Relay cursors (gateway.pagination.build_connection) key on ``id``.
        return self.seq


class AuditHead(GatewayBase):
    """The chain's last ``seq`` and ``hash``, one row, moved by each record's insert (a trigger).

    Appenders lock it to take turns, and ``verify`` compares it with the last record,
    so a record cut from the end of the trail is noticed too.
    """

    __tablename__ = "gateway_audit_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="ck_gateway_audit_head_one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
