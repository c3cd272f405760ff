"""Who is asking: principals, tokens, and authentication of a bearer token."""

from __future__ import annotations

from gateway.auth.authenticate import Authenticator
from gateway.auth.principal import CITY, Area, AreaKind, Principal, PrincipalDirectory, PrincipalRecord, parse_area
from gateway.auth.tokens import TOKEN_DOMAIN, TokenService, parse_ttl

__all__ = [
    "CITY",
    "TOKEN_DOMAIN",
    "Area",
    "AreaKind",
    "Authenticator",
    "Principal",
    "PrincipalDirectory",
    "PrincipalRecord",
    "TokenService",
    "parse_area",
    "parse_ttl",
]
