"""Tokens of an external identity provider, verified by its published keys (JWKS, by URL or file).

A key is chosen by the token's ``kid``; a URL is read with PyJWT's ``PyJWKClient`` (keys cached,
fetched again once when a ``kid`` is unknown). Only asymmetric algorithms are accepted, each key
with its own; the issuer must be ``GATEWAY_JWKS_ISSUER`` and, when set, the audience
``GATEWAY_JWKS_AUDIENCE``. The claims then name a principal as the gateway's own tokens do.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jwt

from gateway.kernel import BadUserInput, Settings, Unauthenticated

ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


class ExternalKeys:
    """The identity provider's keys and the rules its tokens must meet."""

    def __init__(self, settings: Settings) -> None:
        if not settings.jwks_issuer:
            # A configuration error, found when the gateway starts: every provider token would lack a check.
            raise BadUserInput("GATEWAY_JWKS_ISSUER must be set with GATEWAY_JWKS_URL or GATEWAY_JWKS_FILE")
        self.issuer = settings.jwks_issuer
        self.audience = settings.jwks_audience
        self.principal_claim = settings.jwks_principal_claim
        self._client = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, timeout=5) if settings.jwks_url else None
        self._file: Path | None = settings.jwks_file

    @classmethod
    def configured(cls, settings: Settings) -> ExternalKeys | None:
        return cls(settings) if settings.jwks_url or settings.jwks_file else None

    def _from_file(self, kid: str | None) -> jwt.PyJWK:
        assert self._file is not None
        keys = jwt.PyJWKSet.from_json(self._file.read_text())
        for key in keys.keys:
            if key.key_id == kid:
                return key
        raise Unauthenticated("Token is signed by an unknown key")

    async def key_for(self, token: str, kid: str | None) -> jwt.PyJWK:
        try:
            if self._client is not None:
                # PyJWKClient reads the URL synchronously: off the event loop.
                return await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)
            return self._from_file(kid)
        except jwt.PyJWKClientConnectionError:
            raise Unauthenticated("The identity provider's keys cannot be read now") from None
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, jwt.InvalidKeyError, OSError):
            raise Unauthenticated("Token is signed by an unknown key") from None

    async def decode(self, token: str, kid: str | None) -> dict[str, Any]:
        key = await self.key_for(token, kid)
        algorithm = key.algorithm_name
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"Token algorithm {algorithm} is not accepted from the identity provider")
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": [self.principal_claim, "exp", "iat"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("Token expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("Token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"Token is invalid: {exc}") from None
