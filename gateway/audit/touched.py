"""What one operation touched — the rows it returned and the fields it asked for — for its audit record."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, FieldNode, GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, visit

if TYPE_CHECKING:
    from gateway.audit.trail import AuditEntry


@dataclass(frozen=True)
class PendingWrite:
    """The record each write transaction of a mutation commits with (``AuditTrail.record_write``).

    ``entry`` is the mutation's record as known before it runs; ``type_names`` maps a table's
    model to its GraphQL type, to name the rows the transaction wrote.
    """

    entry: AuditEntry
    type_names: Mapping[type[Any], str]


@dataclass
class Touched:
    rows: dict[str, set[int]] = field(default_factory=dict)
    # Set while a mutation runs: its writes commit only together with their audit record.
    write: PendingWrite | None = None
    # One entry per budgeted look-up probe: "Query.field" or "Query.field: refused" (never the value).
    lookups: list[str] = field(default_factory=list)


current: contextvars.ContextVar[Touched | None] = contextvars.ContextVar("touched", default=None)


def note_row(type_name: str, pk: int) -> None:
    """Record that a row of ``type_name`` is being returned (a no-op outside a request)."""
    touched = current.get()
    if touched is not None:
        touched.rows.setdefault(type_name, set()).add(pk)


def note_lookup(entry: str) -> None:
    """Record one budgeted look-up probe (a no-op outside a request)."""
    touched = current.get()
    if touched is not None:
        touched.lookups.append(entry)


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> set[str]:
    """Every ``Type.field`` the document selects, on the types it selects them from."""
    info = TypeInfo(schema)
    found: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                found.add(f"{parent.name}.{node.name.value}")

    visit(document, TypeInfoVisitor(info, Collect()))
    return found


_HIDDEN_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")


def denied_from_errors(messages: list[str]) -> tuple[str, ...]:
    """``Type.field`` names a validation failure was about (fields hidden from the caller)."""
    return tuple(sorted({f"{m.group(2)}.{m.group(1)}" for text in messages for m in _HIDDEN_FIELD.finditer(text)}))
