"""Anchors: the chain head, signed, kept outside the database.

The hash chain shows a record changed or removed in the middle; it cannot show records cut
from the end together with the head. An anchor taken now (``gateway audit anchor``) and
kept elsewhere can: the trail must later still hold record ``seq`` with exactly that hash.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.audit.keys import signature
from gateway.audit.trail import AuditTrail, canonical


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    taken_at: str
    signature: str = ""

    def signed_text(self) -> str:
        return canonical({"seq": self.seq, "hash": self.hash, "taken_at": self.taken_at})

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "taken_at": self.taken_at, "signature": self.signature}


def sign_anchor(key: bytes, seq: int, hash: str) -> Anchor:
    unsigned = Anchor(seq, hash, datetime.now(UTC).isoformat(timespec="seconds"))
    return Anchor(seq, hash, unsigned.taken_at, signature(key, unsigned.signed_text()))


class AnchorError(ValueError):
    """An anchor file that cannot be read or whose signature does not match."""


def read_anchor(path: Path, key: bytes) -> Anchor:
    try:
        data = json.loads(path.read_text())
        anchor = Anchor(int(data["seq"]), str(data["hash"]), str(data["taken_at"]), str(data["signature"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AnchorError(f"cannot read the anchor {path}: {error}") from None
    if not hmac.compare_digest(anchor.signature, signature(key, anchor.signed_text())):
        raise AnchorError(f"the anchor {path} is not signed with this gateway's audit key")
    return anchor


async def anchor_problem(trail: AuditTrail, anchor: Anchor) -> str | None:
    """Why the trail does not reach or does not agree with ``anchor``; None when it does."""
    if anchor.seq == 0:
        return None
    found = await trail.hash_at(anchor.seq)
    if found is None:
        seq, _ = await trail.head()
        return (
            f"the trail is shorter than the anchor: it ends at record {seq}, "
            f"the anchor taken at {anchor.taken_at} is at record {anchor.seq}"
        )
    if found != anchor.hash:
        return f"the trail diverges from the anchor taken at {anchor.taken_at}: record {anchor.seq} has another hash"
    return None
