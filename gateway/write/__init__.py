"""Writes: transactions with grants and presets, state machines, input checks, idempotency."""

from __future__ import annotations

from gateway.write.idempotency import IdempotencyStore, key_of, request_hash
from gateway.write.references import check_references, mutation_references
from gateway.write.transactions import authorize, expect_version, preset, rule, transaction, visible_row
from gateway.write.workflow import machine

__all__ = [
    "IdempotencyStore",
    "authorize",
    "check_references",
    "expect_version",
    "key_of",
    "machine",
    "mutation_references",
    "preset",
    "request_hash",
    "rule",
    "transaction",
    "visible_row",
]
