"""The audit trail: hash-chained records, what an operation touched, the auditLog type."""

from __future__ import annotations

from gateway.audit.query import AuditQuery
from gateway.audit.records import OPERATION_TYPES, Operation, audit_entry, log_only_denials
from gateway.audit.tables import GENESIS_HASH, AuditRecord
from gateway.audit.touched import Touched, current, denied_from_errors, note_lookup, note_row, selected_fields
from gateway.audit.trail import AUDIT_DOMAIN, AuditEntry, AuditTrail, chain_hash, operation_hash, utc

__all__ = [
    "AUDIT_DOMAIN",
    "GENESIS_HASH",
    "OPERATION_TYPES",
    "AuditEntry",
    "AuditQuery",
    "AuditRecord",
    "AuditTrail",
    "Operation",
    "Touched",
    "audit_entry",
    "chain_hash",
    "current",
    "denied_from_errors",
    "log_only_denials",
    "note_lookup",
    "note_row",
    "operation_hash",
    "selected_fields",
    "utc",
]
