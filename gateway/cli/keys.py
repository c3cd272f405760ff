"""``gateway keys``: the asymmetric signing keys (list, rotate)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from gateway.auth import TokenService
from gateway.cli.session import with_databases
from gateway.data import Databases
from gateway.kernel import Registry, Settings


def cmd_keys(args: argparse.Namespace) -> int:
    async def run(settings: Settings, registry: Registry, databases: Databases) -> int:
        ring = TokenService(settings, databases).ring
        if ring is None:
            print(
                "GATEWAY_TOKEN_ALGORITHM is HS256: tokens are signed with the secret key "
                f"({settings.secret_key_file}); set it to EdDSA or RS256 for a key ring",
                file=sys.stderr,
            )
            return 2
        if args.action == "rotate":
            # Every token the old key signed is in the token table: it verifies until the last expires.
            live = await TokenService(settings, databases).live_tokens()
            until = max((t.expires_at for t in live), default=datetime.now(UTC))
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            ring.current()
            new = ring.rotate(until)
            print(
                f"new signing key {new.kid} ({new.algorithm}); the previous one verifies until {until:%Y-%m-%d %H:%M}"
            )
            return 0
        for key in ring.all():
            state = "signing" if key.verify_until is None else f"verifies until {key.verify_until:%Y-%m-%d %H:%M}"
            print(f"{key.kid}  {key.algorithm:<6} created {key.created_at:%Y-%m-%d %H:%M}  {state}")
        return 0

    return asyncio.run(with_databases(run))


def add_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="list and rotate the token signing keys (EdDSA / RS256)")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("list", help="list the signing key and the keys that still verify")
    keys_sub.add_parser("rotate", help="make a new signing key; old keys verify until their tokens expire")
    keys.set_defaults(func=cmd_keys)
