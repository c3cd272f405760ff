"""The gateway's asymmetric signing keys (EdDSA or RS256): a key ring with key ids and rotation.

With ``GATEWAY_TOKEN_ALGORITHM=EdDSA`` (or ``RS256``) tokens are signed by the ring's current
key and carry its ``kid``. The ring lives under ``GATEWAY_TOKEN_KEYS_DIR`` (``var/keys``):

    keys.json        every key's kid, algorithm, public key (PEM), and until when it verifies
    <kid>.key        the current private key (PEM, mode 0600); a retired key's is deleted

``gateway keys rotate`` makes a new current key; the old one stops signing at once, and its
public key verifies until the last token it signed expires (then a later rotation prunes it).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from gateway.kernel import BadUserInput

ASYMMETRIC = ("EdDSA", "RS256")
INDEX = "keys.json"
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class RingKey:
    kid: str
    algorithm: str
    public_pem: str
    created_at: datetime
    # None while the key is current; then the moment its last token expires.
    verify_until: datetime | None = None

    def public_key(self) -> PublicKeyTypes:
        return serialization.load_pem_public_key(self.public_pem.encode())

    def as_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.algorithm,
            "public": self.public_pem,
            "created_at": self.created_at.isoformat(),
            "verify_until": None if self.verify_until is None else self.verify_until.isoformat(),
        }

    @classmethod
    def of(cls, raw: dict[str, Any]) -> RingKey:
        until = raw.get("verify_until")
        return cls(
            kid=str(raw["kid"]),
            algorithm=str(raw["alg"]),
            public_pem=str(raw["public"]),
            created_at=datetime.fromisoformat(str(raw["created_at"])),
            verify_until=None if until is None else datetime.fromisoformat(str(until)),
        )


def _new_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise BadUserInput(f"No key ring for {algorithm}: use one of {', '.join(ASYMMETRIC)}")


class KeyRing:
    """The signing keys under one folder; re-read from disk when another process rotated them."""

    def __init__(self, folder: Path, algorithm: str) -> None:
        self.folder = folder
        self.algorithm = algorithm
        self._keys: list[RingKey] = []
        self._read_at: float | None = None
        self._private: tuple[str, PrivateKey] | None = None

    @property
    def _index(self) -> Path:
        return self.folder / INDEX

    def all(self) -> list[RingKey]:
        """Every key in the ring, the current one last."""
        self._refresh()
        return list(self._keys)

    def _refresh(self) -> None:
        try:
            stamp = self._index.stat().st_mtime_ns
        except FileNotFoundError:
            self._keys, self._read_at = [], None
            return
        if stamp != self._read_at:
            self._keys = [RingKey.of(raw) for raw in json.loads(self._index.read_text())]
            self._read_at = stamp

    def _write(self, keys: list[RingKey]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        temporary = self._index.with_suffix(".tmp")
        temporary.write_text(json.dumps([k.as_json() for k in keys], indent=2) + "\n")
        os.replace(temporary, self._index)
        self._refresh()

    def current(self) -> tuple[str, PrivateKey]:
        """The kid and private key that sign new tokens; the first is made on first use."""
        keys = self.all()
        if not keys or keys[-1].verify_until is not None:
            self.rotate(datetime.now(UTC))
            keys = self.all()
        kid = keys[-1].kid
        if self._private is None or self._private[0] != kid:
            loaded = serialization.load_pem_private_key((self.folder / f"{kid}.key").read_bytes(), password=None)
            if not isinstance(loaded, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
                raise BadUserInput(f"{self.folder}/{kid}.key is not an Ed25519 or RSA private key")
            self._private = (kid, loaded)
        return self._private

    def verifier(self, kid: str) -> RingKey | None:
        """The key with this kid, while it still verifies."""
        now = datetime.now(UTC)
        for key in self.all():
            if key.kid == kid and (key.verify_until is None or key.verify_until > now):
                return key
        return None

    def rotate(self, verify_until: datetime) -> RingKey:
        """A new current key; the old current key verifies until ``verify_until``; expired keys go."""
        now = datetime.now(UTC)
        private = _new_private_key(self.algorithm)
        public_pem = (
            private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        new = RingKey(f"{now:%Y%m%d}-{secrets.token_hex(4)}", self.algorithm, public_pem, now)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{new.kid}.key"
        # Created with 0600 from the start: the private key is never readable by others, not even briefly.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(
                private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        kept: list[RingKey] = []
        for key in self.all():
            if key.verify_until is None:
                key = RingKey(key.kid, key.algorithm, key.public_pem, key.created_at, max(verify_until, now))
                (self.folder / f"{key.kid}.key").unlink(missing_ok=True)
            if key.verify_until is not None and key.verify_until > now:
                kept.append(key)
        self._write([*kept, new])
        return new
