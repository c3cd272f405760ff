"""Signed bearer tokens: issue, verify, revoke."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select, update

from gateway.auth.tables import IssuedToken
from gateway.data import Databases
from gateway.kernel import BadUserInput, Settings, Unauthenticated

ALGORITHM = "HS256"
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


class TokenService:
    def __init__(self, settings: Settings, databases: Databases) -> None:
        self._settings = settings
        self._databases = databases
        self._key = settings.signing_key()

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
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> Claims:
        """Check signature, issuer and expiry; say which of them failed."""
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=self._settings.token_issuer,
                options={"require": ["sub", "jti", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("Token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"Token is invalid: {exc}") from None
        return Claims(
            principal_id=str(payload["sub"]),
            token_id=str(payload["jti"]),
            scopes=tuple(str(s) for s in payload.get("scp", [])),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            area=str(payload["area"]) if payload.get("area") else None,
        )

    async def is_live(self, token_id: str) -> bool:
        """A token is live when it was issued here and not revoked."""
        async with self._databases.session(TOKEN_DOMAIN) as session:
            row = await session.get(IssuedToken, token_id)
        return row is not None and row.revoked_at is None

    async def revoke(self, token_id: str) -> bool:
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            result = await session.execute(
                update(IssuedToken)
                .where(IssuedToken.jti == token_id, IssuedToken.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(getattr(result, "rowcount", 0))

    async def live_tokens(self) -> list[IssuedToken]:
        now = datetime.now(UTC)
        async with self._databases.session(TOKEN_DOMAIN) as session:
            rows = await session.scalars(
                select(IssuedToken)
                .where(IssuedToken.revoked_at.is_(None), IssuedToken.expires_at > now)
                .order_by(IssuedToken.issued_at)
            )
            return list(rows)
