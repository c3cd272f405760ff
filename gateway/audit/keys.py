"""The audit key: keyed hashes of argument values, and the signature on a chain anchor.

A keyed hash (HMAC-SHA256) lets an auditor see that one value was probed again and again
without the record holding the value; without the key, a phone number's 10⁸ candidates
cannot be hashed and compared. The key is ``GATEWAY_AUDIT_HMAC_KEY``, or else derived
from the token signing key, so that neither key can be recovered from the other's use.
"""

from __future__ import annotations

import hashlib
import hmac

from gateway.kernel import Settings

# Hex digits kept of a value's keyed hash: 128 bits, plenty to tell values apart.
HASH_LENGTH = 32


def audit_key(settings: Settings) -> bytes:
    if settings.audit_hmac_key:
        return settings.audit_hmac_key.encode()
    return hmac.new(settings.signing_key().encode(), b"gateway audit key", hashlib.sha256).digest()


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


def signature(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
