"""Signed bearer tokens: issue, verify, revoke.

The gateway signs with HS256 and its secret (the default), or with its key ring (EdDSA or RS256,
see ``gateway.auth.keys``); it verifies both, and an external identity provider's tokens by JWKS
(``gateway.auth.external``). A token names its key by ``kid``: a ring key, else (with no ``kid``
and HS256) the secret, else the provider's keys.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update

from gateway.auth.external import ExternalKeys
from gateway.auth.keys import ASYMMETRIC, KeyRing
from gateway.auth.liveness import REVOCATIONS_ID, LiveTokens
from gateway.auth.tables import IssuedToken, RevocationCount
from gateway.data import Databases
from gateway.kernel import BadUserInput, Kept, Settings, Unauthenticated

ALGORITHM = "HS256"
# Verified tokens kept per worker, least recently used dropped first.
VERIFIED_KEPT = 4096
TOKEN_DOMAIN = "gateway"
_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(text: str) -> timedelta:
    """``90s``, ``15m``, ``8h``, ``30d`` → a timedelta."""
    match = _TTL.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise BadUserInput(f"Invalid TTL {text!r}: use a positive number followed by s, m, h or d, e.g. 8h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Claims:
    principal_id: str
    token_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    area: str | None = None  # "street:16": a partner token narrowed to one area
    # Issued by an external identity provider: not in this gateway's token table, revoked there.
    external: bool = False


def _claims(payload: dict[str, object], principal_claim: str = "sub", external: bool = False) -> Claims:
    scopes = payload.get("scp")
    if scopes is None and isinstance(payload.get("scope"), str):
        # OAuth 2.0 providers send scopes as one space-separated string.
        scopes = str(payload["scope"]).split()
    area = payload.get("area")
    return Claims(
        principal_id=str(payload[principal_claim]),
        token_id=str(payload["jti"]) if payload.get("jti") else "",
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list | tuple) else (),
        expires_at=datetime.fromtimestamp(int(str(payload["exp"])), UTC),
        area=str(area) if area else None,
        external=external,
    )


class TokenService:
    def __init__(self, settings: Settings, databases: Databases) -> None:
        self._settings = settings
        self._databases = databases
        self._key = settings.signing_key()
        algorithm = settings.token_algorithm
        self.ring = KeyRing(settings.token_keys_dir, algorithm) if algorithm in ASYMMETRIC else None
        self.external = ExternalKeys.configured(settings)
        self.live = LiveTokens(databases, TOKEN_DOMAIN, settings.revocation_poll_seconds, settings.redis_url)
        # Tokens of this gateway already checked, with the ring key that signed them (None: the secret).
        # A signature does not change: only expiry and a retired key are checked again.
        self._verified: Kept[str, tuple[Claims, str | None]] = Kept(VERIFIED_KEPT)

    async def issue(
        self, principal_id: str, ttl: timedelta, scopes: tuple[str, ...] = (), area: str | None = None
    ) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        jti = uuid.uuid4().hex
        expires = now + ttl
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            session.add(
                IssuedToken(
                    jti=jti,
                    principal_id=principal_id,
                    scopes=",".join(scopes),
                    issued_at=now,
                    expires_at=expires,
                )
            )
        payload: dict[str, object] = {
            "sub": principal_id,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "iss": self._settings.token_issuer,
            "scp": list(scopes),
        }
        if area is not None:
            payload["area"] = area
        if self.ring is not None:
            kid, private = self.ring.current()
            return jwt.encode(payload, private, algorithm=self.ring.algorithm, headers={"kid": kid})
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    async def verify(self, token: str) -> Claims:
        """The claims of a token of this gateway (secret or key ring) or of the identity provider."""
        known = self._verified.get(token)
        if known is not None:
            claims, kid = known
            if datetime.now(UTC) < claims.expires_at and (kid is None or self._verifies(kid)):
                return claims
            self._verified.drop(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("Token is invalid: not a JWT") from None
        kid = header.get("kid")
        if kid is None and header.get("alg") == ALGORITHM:
            return self._keep(token, self.decode(token), None)
        ring_key = None if self.ring is None or not isinstance(kid, str) else self.ring.verifier(kid)
        if ring_key is not None:
            return self._keep(token, self.decode(token, ring_key.public_key(), ring_key.algorithm), ring_key.kid)
        if self.external is not None and header.get("alg") != ALGORITHM:
            payload = await self.external.decode(token, kid if isinstance(kid, str) else None)
            claims = _claims(payload, self.external.principal_claim, external=True)
            # The provider's token ID, else a digest of the token: what the audit trail names it by.
            token_id = claims.token_id or hashlib.sha256(token.encode()).hexdigest()[:32]
            return Claims(claims.principal_id, token_id, claims.scopes, claims.expires_at, claims.area, True)
        raise Unauthenticated("Token is signed by an unknown key")

    def _verifies(self, kid: str) -> bool:
        return self.ring is not None and self.ring.verifier(kid) is not None

    def _keep(self, token: str, claims: Claims, kid: str | None) -> Claims:
        self._verified.put(token, (claims, kid))
        return claims

    def decode(self, token: str, key: object = None, algorithm: str = ALGORITHM) -> Claims:
        """Check signature, issuer and expiry; say which of them failed."""
        try:
            payload = jwt.decode(
                token,
                self._key if key is None else key,  # type: ignore[arg-type]
                algorithms=[algorithm],
                issuer=self._settings.token_issuer,
                options={"require": ["sub", "jti", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("Token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"Token is invalid: {exc}") from None
        return _claims(payload)

    async def is_live(self, token_id: str, fresh: bool = False) -> bool:
        """A token is live when it was issued here and not revoked; ``fresh`` asks the database even
        when this worker holds the token as live (``gateway.auth.liveness``)."""
        if not fresh and self.live.holds(token_id):
            return True
        generation = self.live.generation
        async with self._databases.session(TOKEN_DOMAIN) as session:
            row = await session.get(IssuedToken, token_id)
        live = row is not None and row.revoked_at is None
        if row is not None and live:
            self.live.hold(token_id, row.expires_at, generation)
        return live

    async def revoke(self, token_id: str) -> bool:
        announcer = await self.live.announcer()
        try:
            return await self._revoke(token_id, announcer)
        finally:
            if announcer is not None:
                await announcer.aclose()

    async def _revoke(self, token_id: str, announcer: Any) -> bool:
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            result = await session.execute(
                update(IssuedToken)
                .where(IssuedToken.jti == token_id, IssuedToken.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            revoked = bool(getattr(result, "rowcount", 0))
            if revoked:
                await session.execute(
                    update(RevocationCount)
                    .where(RevocationCount.id == REVOCATIONS_ID)
                    .values(count=RevocationCount.count + 1)
                )
        if revoked:
            await self.live.revoked(announcer)
        return revoked

    async def live_tokens(self) -> list[IssuedToken]:
        now = datetime.now(UTC)
        async with self._databases.session(TOKEN_DOMAIN) as session:
            rows = await session.scalars(
                select(IssuedToken)
                .where(IssuedToken.revoked_at.is_(None), IssuedToken.expires_at > now)
                .order_by(IssuedToken.issued_at)
            )
            return list(rows)
