"""Which records touched which row: a side table of (key, seq), written with each record.

A record's ``row_ids`` is JSON text, fine to hash and to read back but not to search. To answer
"who read this resident's record" without scanning the trail, each record also writes one
index row per row it names (key ``Resident:17``) and per ``id`` argument it probed (key
``#<keyed hash>``: a ``node(id:)`` or ``resident(id:)`` that found nothing, or found a row
the caller may not see, is an attempt on that record too). The index is derived from the
hashed record (its ``touch_keys``, which the insert's trigger copies here, revision 0013) and
kept append-only like it; ``gateway db upgrade`` filled it for records older than the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.audit.keys import keyed_hash
from gateway.data import GatewayBase, encode_id

# The argument name (after its path) whose probes name a record by its global ID.
ID_ARGUMENT = "id"


class AuditTouch(GatewayBase):
    """One row a record returned or wrote (``Type:pk``), or one record it asked for by ID (``#hash``)."""

    __tablename__ = "gateway_audit_touch"
    __table_args__ = (Index("ix_gateway_audit_touch_seq", "seq"),)

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


def row_key(type_name: str, pk: int) -> str:
    return f"{type_name}:{pk}"


def probe_key(hashed: str) -> str:
    return f"#{hashed}"


def asked_by_id_key(key: bytes, type_name: str, pk: int) -> str:
    """The index key of a probe naming this record by its global ID, as ``gateway.audit.probes`` hashes it."""
    return probe_key(keyed_hash(key, f"{ID_ARGUMENT}\x1f{encode_id(type_name, pk)}"))


def _argument_domain(name: str) -> str:
    return re.sub(r"\[\d+\]", "", name).rsplit(".", 1)[-1]


def keys_of(row_ids: Mapping[str, Iterable[int]], probes: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The index keys of one record (its ``touch_keys``), from its ``row_ids`` and ``probes`` as they are
    before being stored."""
    seen: set[str] = set()
    for type_name, ids in row_ids.items():
        for pk in ids:
            seen.add(row_key(type_name, int(pk)))
    for probe in probes:
        for name, hashed in probe.get("arguments", {}).items():
            if _argument_domain(name) == ID_ARGUMENT:
                seen.add(probe_key(hashed))
    yield from sorted(seen)
