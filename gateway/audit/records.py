"""The audit record of one operation: decided from what it selected, returned and was refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.audit.probes import Probe
from gateway.audit.trail import AuditEntry, OperationType, Outcome, operation_hash
from gateway.auth import Principal
from gateway.policy import Attributes, Policy, field_access


@dataclass(frozen=True)
class Operation:
    query: str
    name: str | None
    type: OperationType
    purpose: str | None


OPERATION_TYPES: dict[str, OperationType] = {"query": "query", "mutation": "mutation", "subscription": "subscription"}


def log_only_denials(policy: Policy, selected: Iterable[str], governed: Iterable[str]) -> tuple[str, ...]:
    """Fields a log-only policy would have denied: served, but recorded."""
    names = set(governed)
    out = []
    for item in selected:
        type_name, _, field_name = item.partition(".")
        if type_name in names and policy.access(type_name, field_name) == "denied":
            out.append(item)
    return tuple(sorted(out))


def read_as(policy: Policy | None, fields: Iterable[str], attributes: Attributes | None = None) -> dict[str, str]:
    """For each ``Type.field``: read "masked" (the caller got the masked form) or in "clear" — by the
    rule of the value it reads (``Mediator.phone`` is read as ``Staff.phone`` is)."""
    out = {}
    for item in fields:
        type_name, _, field_name = item.partition(".")
        access = None if policy is None else field_access(policy, attributes, type_name, field_name)
        masked = policy is not None and policy.enforce and access == "masked"
        out[item] = "masked" if masked else "clear"
    return out


def audit_entry(
    principal: Principal,
    operation: Operation,
    policy_version: str,
    selected: Iterable[str],
    sensitive: Mapping[str, set[str]],
    rows: Mapping[str, set[int]],
    redacted: Iterable[str] = (),
    denied: Iterable[str] = (),
    outcome: Outcome = "ok",
    policy: Policy | None = None,
    probes: tuple[Probe, ...] = (),
    attributes: Attributes | None = None,
    document: tuple[str, str] | None = None,
) -> AuditEntry | None:
    """The record to append, or None when the operation touched no personal data.

    A look-up or filter on personal data is recorded even when it found nothing: a probe
    for a missing or hidden row is an access attempt.
    """
    fields = tuple(sorted(f for f in selected if f.partition(".")[2] in sensitive.get(f.partition(".")[0], ())))
    row_ids = {name: tuple(sorted(ids)) for name, ids in sorted(rows.items()) if sensitive.get(name) and ids}
    denied = tuple(denied)
    refused = outcome in ("denied", "limited")
    if not (fields or row_ids or denied or probes or operation.type == "mutation" or refused):
        return None
    return AuditEntry(
        principal_id=principal.id,
        role=principal.role,
        agency=principal.record.agency,
        purpose=operation.purpose,
        operation_name=operation.name,
        operation_hash=operation_hash(operation.query),
        operation_type=operation.type,
        policy_version=policy_version,
        fields=fields,
        row_ids=row_ids,
        redacted=tuple(redacted),
        denied=denied,
        outcome=outcome,
        token_id=principal.token_id,
        access=read_as(policy, fields, attributes),
        probes=probes,
        document_hash=None if document is None else document[0],
        document_client=None if document is None else document[1],
    )
