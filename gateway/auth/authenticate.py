"""Bearer token → principal. The principal's area is read from the data, briefly cached."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from gateway.auth.principal import Area, Principal, PrincipalDirectory, PrincipalRecord, parse_area
from gateway.auth.tokens import TokenService
from gateway.kernel import Kept, Unauthenticated


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


class Authenticator:
    def __init__(
        self, tokens: TokenService, directory: PrincipalDirectory, cache_seconds: float, cache_size: int = 1024
    ) -> None:
        self._tokens = tokens
        self._directory = directory
        self.cache_seconds = cache_seconds
        # Least recently used first: with many principals only the busy ones stay cached.
        self._cache: Kept[str, tuple[float, PrincipalRecord | None]] = Kept(cache_size)
        # Look-ups in flight, with when each began.
        self._finding: dict[str, tuple[float, asyncio.Future[PrincipalRecord | None]]] = {}

    async def authenticate(self, authorization: str | None, fresh: bool = False) -> Principal:
        """The principal of a bearer token; ``fresh`` reads its record afresh instead of from the cache
        (a live session is re-authorised that way, so a disabled or moved principal is seen at once)."""
        claims = await self._tokens.verify(bearer_token(authorization))
        if not claims.external and not await self._tokens.is_live(claims.token_id, fresh):
            raise Unauthenticated("Token has been revoked or was not issued by this gateway")
        record = await self._record(claims.principal_id, fresh)
        if record is None or not record.active:
            raise Unauthenticated(f"Principal {claims.principal_id!r} is unknown or disabled")
        if claims.area is not None:
            record = replace(record, area=await self._area(claims.area))
        if record.kind == "partner":
            # A partner token carries its scopes; the agency's registration caps them.
            scopes = tuple(s for s in claims.scopes if s in record.scopes)
        elif claims.scopes and not set(claims.scopes) <= set(record.scopes):
            # Staff act by their role; a staff token claiming a partner's scopes was not issued here.
            raise Unauthenticated("A staff token cannot carry partner scopes")
        else:
            scopes = record.scopes
        return Principal(record=record, token_id=claims.token_id, scopes=scopes)

    async def _area(self, text: str) -> Area:
        parsed = parse_area(text)
        area = None if parsed is None else await self._directory.area(*parsed)
        if area is None:
            raise Unauthenticated(f"Token names an unknown area {text!r}")
        return area

    async def _record(self, principal_id: str, fresh: bool = False) -> PrincipalRecord | None:
        # Areas come from the data so that rebinding an officer needs no new token;
        # a short cache keeps that look-up off most requests.
        now = time.monotonic()
        cached = self._cache.get(principal_id)
        if cached is not None and not fresh and now - cached[0] < self.cache_seconds:
            return cached[1]
        finding = self._finding.get(principal_id)
        if finding is None or fresh or now - finding[0] >= self.cache_seconds:
            # One look-up however many requests find the entry gone at once (ten clients of one
            # principal would otherwise read the same record ten times each time it expires). A
            # look-up in flight is joined only while its record would still be served from the cache.
            future: asyncio.Future[PrincipalRecord | None] = asyncio.ensure_future(self._directory.find(principal_id))
            finding = (now, future)
            if not fresh:
                self._finding[principal_id] = finding
                future.add_done_callback(lambda done: self._forget(principal_id, done))
        began, future = finding
        record = await asyncio.shield(future)
        # Kept as of when the look-up began (what it read may be that old), and never over a newer one.
        kept = self._cache.get(principal_id)
        if kept is None or kept[0] <= began:
            self._cache.put(principal_id, (began, record))
        return record

    def _forget(self, principal_id: str, done: asyncio.Future[PrincipalRecord | None]) -> None:
        finding = self._finding.get(principal_id)
        if finding is not None and finding[1] is done:
            del self._finding[principal_id]
