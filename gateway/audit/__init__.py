"""The audit trail: hash-chained records, what an operation touched, the auditLog type."""

from __future__ import annotations

from gateway.audit.access import AccessEntry, AccessKind, AccessQuery
from gateway.audit.anchor import Anchor, AnchorError, anchor_problem, read_anchor, sign_anchor
from gateway.audit.index import AuditTouch
from gateway.audit.keys import audit_key, keyed_hash
from gateway.audit.probes import Probe, probes
from gateway.audit.query import AuditQuery
from gateway.audit.records import OPERATION_TYPES, Operation, audit_entry, log_only_denials, read_as
from gateway.audit.tables import GENESIS_HASH, AuditRecord
from gateway.audit.touched import (
    PendingWrite,
    Touched,
    current,
    denied_from_errors,
    note_lookup,
    note_row,
    selected_fields,
)
from gateway.audit.trail import (
    AUDIT_DOMAIN,
    AuditEntry,
    AuditTrail,
    GroupCommit,
    chain_hash,
    operation_hash,
    utc,
)

__all__ = [
    "AUDIT_DOMAIN",
    "GENESIS_HASH",
    "OPERATION_TYPES",
    "AccessEntry",
    "AccessKind",
    "AccessQuery",
    "Anchor",
    "AnchorError",
    "AuditEntry",
    "AuditQuery",
    "AuditRecord",
    "AuditTouch",
    "AuditTrail",
    "GroupCommit",
    "Operation",
    "PendingWrite",
    "Probe",
    "Touched",
    "anchor_problem",
    "audit_entry",
    "audit_key",
    "chain_hash",
    "current",
    "denied_from_errors",
    "keyed_hash",
    "log_only_denials",
    "note_lookup",
    "note_row",
    "operation_hash",
    "probes",
    "read_anchor",
    "read_as",
    "selected_fields",
    "sign_anchor",
    "utc",
]
