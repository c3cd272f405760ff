"""Asymmetric signing keys with rotation, and tokens of an external identity provider verified by JWKS."""

from __future__ import annotations

import http.server
import json
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gateway.kernel import Settings
from tests.harness import Gateway, running_gateway

ISSUER = "https://idp.city.test"
ME = "{ me { id role } }"


async def _me(gw: Gateway, token: str) -> tuple[int, Any]:
    response = await gw.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


@pytest.fixture(scope="module")
async def eddsa(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    folder = tmp_path_factory.mktemp("eddsa")
    url = f"sqlite+aiosqlite:///{folder / 'gw.db'}"
    async with running_gateway("sqlite", url, token_algorithm="EdDSA", token_keys_dir=folder / "keys") as gateway:
        yield gateway


async def test_tokens_are_signed_with_the_current_key_and_carry_its_kid(eddsa: Gateway) -> None:
    token = eddsa.tokens["city_analyst"]
    header = jwt.get_unverified_header(token)
    ring = eddsa.runtime.tokens.ring
    assert ring is not None
    assert header["alg"] == "EdDSA" and header["kid"] == ring.all()[-1].kid
    status, body = await _me(eddsa, token)
    assert status == 200 and body["data"] == {"me": {"id": "analyst.city", "role": "city_analyst"}}
    private = Path(eddsa.settings.token_keys_dir) / f"{header['kid']}.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    # The HS256 secret does not verify an EdDSA token, and a token with a made-up kid is refused.
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}), "x" * 32, headers={"kid": "nope"})
    status, body = await _me(eddsa, forged)
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_rotation_keeps_old_tokens_valid_until_they_expire(eddsa: Gateway) -> None:
    tokens, ring = eddsa.runtime.tokens, eddsa.runtime.tokens.ring
    assert ring is not None
    old = await tokens.issue("analyst.city", timedelta(minutes=5))
    old_kid = jwt.get_unverified_header(old)["kid"]
    ring.rotate(datetime.now(UTC) + timedelta(minutes=5))
    new = await tokens.issue("analyst.city", timedelta(minutes=5))
    assert jwt.get_unverified_header(new)["kid"] != old_kid
    assert not (Path(eddsa.settings.token_keys_dir) / f"{old_kid}.key").exists(), "a retired private key is deleted"
    assert (await _me(eddsa, old))[0] == 200 and (await _me(eddsa, new))[0] == 200
    # Once its tokens' time is up the old key no longer verifies: a later rotation prunes it.
    newer_kid = jwt.get_unverified_header(new)["kid"]
    ring.rotate(datetime.now(UTC) + timedelta(minutes=5))
    kids = [k.kid for k in ring.all()]
    assert newer_kid in kids
    index = json.loads((Path(eddsa.settings.token_keys_dir) / "keys.json").read_text())
    for entry in index:
        if entry["kid"] == old_kid:
            entry["verify_until"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    (Path(eddsa.settings.token_keys_dir) / "keys.json").write_text(json.dumps(index))
    status, body = await _me(eddsa, old)
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await _me(eddsa, new))[0] == 200


def test_keys_rotate_on_the_command_line(tmp_path: Path) -> None:
    import os

    from tests.test_cli import run

    env = dict(
        os.environ,
        GATEWAY_DB_URL=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
        GATEWAY_SECRET_KEY="k" * 40,
        GATEWAY_TOKEN_ALGORITHM="RS256",
        GATEWAY_TOKEN_KEYS_DIR=str(tmp_path / "keys"),
    )
    run(env, "db", "upgrade")
    run(env, "seed")
    first = run(env, "token", "issue", "--principal", "analyst.city", "--ttl", "15m").stdout.strip().splitlines()[-1]
    assert jwt.get_unverified_header(first)["alg"] == "RS256"
    said = run(env, "keys", "rotate").stdout
    assert "new signing key" in said
    listed = run(env, "keys", "list").stdout.splitlines()
    assert len(listed) == 2 and "signing" in listed[-1] and "verifies until" in listed[0]
    hs256 = dict(env, GATEWAY_TOKEN_ALGORITHM="HS256")
    assert run(hs256, "keys", "rotate", check=False).returncode == 2


# --- an external identity provider --------------------------------------------------------------


def _jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, object]:
    out = []
    for kid, key in keys:
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        out.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": out}


def _idp_token(key: rsa.RSAPrivateKey, kid: str, issuer: str = ISSUER, sub: str = "analyst.city") -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": issuer, "iat": now, "exp": now + 300, "jti": f"idp-{now}-{kid}"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def idp_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_server(idp_key: rsa.RSAPrivateKey) -> Iterator[tuple[str, list[int]]]:
    """A JWKS document served on loopback, counting how often it is read."""
    body = json.dumps(_jwks(("idp-1", idp_key))).encode()
    reads = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reads[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", reads
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
async def with_idp(
    tmp_path_factory: pytest.TempPathFactory, jwks_server: tuple[str, list[int]]
) -> AsyncIterator[Gateway]:
    folder = tmp_path_factory.mktemp("idp")
    url = f"sqlite+aiosqlite:///{folder / 'gw.db'}"
    async with running_gateway("sqlite", url, jwks_url=jwks_server[0], jwks_issuer=ISSUER) as gateway:
        yield gateway


async def test_a_token_signed_by_a_jwks_key_is_accepted(with_idp: Gateway, idp_key: rsa.RSAPrivateKey) -> None:
    status, body = await _me(with_idp, _idp_token(idp_key, "idp-1"))
    assert status == 200 and body == {"data": {"me": {"id": "analyst.city", "role": "city_analyst"}}}
    # The gateway's own HS256 tokens still verify beside the provider's.
    assert (await _me(with_idp, with_idp.tokens["city_analyst"]))[0] == 200


async def test_a_token_signed_by_an_unknown_key_is_refused(
    with_idp: Gateway, idp_key: rsa.RSAPrivateKey, jwks_server: tuple[str, list[int]]
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (
        _idp_token(stranger, "idp-2"),  # a kid the provider does not publish
        _idp_token(stranger, "idp-1"),  # a published kid, but not its key
        _idp_token(idp_key, "idp-1", issuer="https://elsewhere.test"),  # the right key, another issuer
        _idp_token(idp_key, "idp-1", sub="nobody.here"),  # no such principal
    ):
        status, body = await _me(with_idp, token)
        assert status == 401, body
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_jwks_from_a_file(tmp_path: Path, idp_key: rsa.RSAPrivateKey) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(_jwks(("file-1", idp_key))))
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    async with running_gateway("sqlite", url, jwks_file=jwks, jwks_issuer=ISSUER) as gateway:
        assert (await _me(gateway, _idp_token(idp_key, "file-1")))[0] == 200
        assert (await _me(gateway, _idp_token(idp_key, "file-2")))[0] == 401


def test_jwks_without_an_issuer_is_a_configuration_error(tmp_path: Path) -> None:
    from gateway.auth.external import ExternalKeys
    from gateway.kernel import GatewayError

    with pytest.raises(GatewayError, match="GATEWAY_JWKS_ISSUER"):
        ExternalKeys(Settings(jwks_url="http://127.0.0.1:9/jwks.json"))
