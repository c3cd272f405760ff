"""Writes: transactions with grants and presets, state machines, input checks, idempotency, and the
fields and steps every mutation shares (client mutation ID, expected version, the row changed, the payload)."""

from __future__ import annotations

from gateway.write.idempotency import (
    MOVED_ON,
    IdempotencyStore,
    claimant_of,
    key_of,
    reading_scope,
    request_hash,
    sealing_key,
)
from gateway.write.payloads import (
    client_mutation_id_field,
    echoed_client_mutation_id_field,
    expected_version_field,
    row_to_change,
    written,
)
from gateway.write.references import check_references, mutation_references
from gateway.write.statements import Writes, statements
from gateway.write.transactions import (
    authorize,
    expect_version,
    in_own_area,
    preset,
    rule,
    transaction,
    visible_row,
)
from gateway.write.workflow import machine

__all__ = [
    "MOVED_ON",
    "IdempotencyStore",
    "Writes",
    "authorize",
    "check_references",
    "claimant_of",
    "client_mutation_id_field",
    "echoed_client_mutation_id_field",
    "expect_version",
    "expected_version_field",
    "in_own_area",
    "key_of",
    "machine",
    "mutation_references",
    "preset",
    "reading_scope",
    "request_hash",
    "row_to_change",
    "rule",
    "sealing_key",
    "statements",
    "transaction",
    "visible_row",
    "written",
]
