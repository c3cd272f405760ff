"""Safe retries: a mutation request sent again with the same idempotency key writes once.

The key comes from the ``Idempotency-Key`` header, or else from ``input.clientMutationId``
in the variables. The same key with the same request returns the first response again; with
a different request it is a CONFLICT. The key is claimed before the mutation runs, so two
copies racing each other cannot both write: the second is told the first is in progress.

A stored answer holds what its caller read, so it is sealed (Fernet, with a key derived from
the server's secret) and handed out again only while the caller reads under the same role,
area, scopes and policy: after a move or a policy change the replay would show what a fresh
read no longer may, and the caller is told to read the record again instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from gateway.auth import TOKEN_DOMAIN, Principal
from gateway.data import Databases
from gateway.write.tables import IdempotencyRecord


def request_hash(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> str:
    text = json.dumps({"q": query, "v": variables or {}, "o": operation_name}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def claimant_of(principal_id: str, token_id: str) -> str:
    """Who holds a key: one token of one principal, in the 64 characters the table keeps."""
    return hashlib.sha256(f"{principal_id}\x1f{token_id}".encode()).hexdigest()


def reading_scope(principal: Principal, policy_version: str) -> str:
    """What a stored answer was read under: a replay is handed out only while this is unchanged."""
    area = principal.area
    grids = sorted(area.grid_ids) if area.grid_ids is not None else None
    text = json.dumps([principal.role, area.kind, area.id, grids, sorted(principal.scopes), policy_version])
    return hashlib.sha256(text.encode()).hexdigest()


def sealing_key(secret: str) -> bytes:
    """The Fernet key for stored answers, derived so that it reveals nothing of ``secret``."""
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), b"gateway idempotency key", hashlib.sha256).digest())


MOVED_ON = (
    "A request with this idempotency key was done already, under an area or policy you no longer "
    "hold: its answer is not handed out again; read the record to see it as you may now"
)


def key_of(header: str | None, variables: dict[str, Any] | None) -> str | None:
    if header:
        return header.strip()[:200] or None
    given = (variables or {}).get("input")
    if isinstance(given, dict) and isinstance(given.get("clientMutationId"), str):
        return "client:" + str(given["clientMutationId"])[:190]
    return None


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: go ahead, replay an earlier response, or refuse."""

    fresh: bool
    response: dict[str, Any] | None = None
    conflict: str | None = None


class IdempotencyStore:
    def __init__(self, databases: Databases, sealing_key: bytes) -> None:
        self._databases = databases
        self._fernet = Fernet(sealing_key)

    async def claim(self, principal_id: str, key: str, digest: str, scope: str) -> Claim:
        try:
            async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
                session.add(
                    IdempotencyRecord(
                        principal_id=principal_id,
                        key=key,
                        request_hash=digest,
                        status="pending",
                        created_at=datetime.now(UTC),
                    )
                )
            return Claim(fresh=True)
        except IntegrityError:
            pass
        async with self._databases.session(TOKEN_DOMAIN) as session:
            seen = await session.get(IdempotencyRecord, (principal_id, key))
        if seen is None:
            return Claim(fresh=False, conflict="Idempotency key could not be claimed; retry")
        if seen.request_hash != digest:
            return Claim(fresh=False, conflict="Idempotency key was already used for a different request")
        if seen.status != "done" or seen.response is None:
            return Claim(fresh=False, conflict="A request with this idempotency key is still in progress")
        stored = self._unseal(seen.response)
        if stored is None or stored.get("scope") != scope:
            return Claim(fresh=False, conflict=MOVED_ON)
        return Claim(fresh=False, response=stored["response"])

    async def finish(self, principal_id: str, key: str, response: dict[str, Any], scope: str) -> None:
        sealed = self._fernet.encrypt(json.dumps({"scope": scope, "response": response}).encode()).decode()
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.principal_id == principal_id, IdempotencyRecord.key == key)
                .values(status="done", response=sealed)
            )

    def _unseal(self, text: str) -> dict[str, Any] | None:
        try:
            opened = json.loads(self._fernet.decrypt(text.encode()))
        except (InvalidToken, ValueError):
            return None  # sealed under another key, or written before answers were sealed
        return opened if isinstance(opened, dict) else None

    async def release(self, principal_id: str, key: str) -> None:
        """Forget a claim whose request failed before writing anything, so it may be retried."""
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.principal_id == principal_id, IdempotencyRecord.key == key
                )
            )
