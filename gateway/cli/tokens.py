"""``gateway principals`` and ``gateway token``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from typing import Any

from gateway.auth import PrincipalDirectory, PrincipalRecord, TokenService, parse_area, parse_ttl
from gateway.cli.session import with_databases
from gateway.data import Databases
from gateway.kernel import Registry, Settings


def cmd_principals(args: argparse.Namespace) -> int:
    async def run(settings: Settings, registry: Registry, databases: Databases) -> int:
        records = await registry.directory(databases).all()
        if args.json:
            rows = []
            for r in records:
                row: dict[str, Any] = asdict(r)
                row["scopes"] = list(r.scopes)
                row["area"] = {"kind": r.area.kind, "id": r.area.id, "name": r.area.name}
                rows.append(row)
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in records:
                print(f"{r.id:<24} {r.role:<18} {r.name:<12} {r.area.kind}:{r.area.name}")
        return 0

    return asyncio.run(with_databases(run))


def cmd_token(args: argparse.Namespace) -> int:
    async def run(settings: Settings, registry: Registry, databases: Databases) -> int:
        tokens = TokenService(settings, databases)
        if args.action == "issue":
            return await _issue(args, registry, databases, tokens)
        if args.action == "revoke":
            if await tokens.revoke(args.jti):
                print(f"revoked {args.jti}")
                return 0
            print(f"no live token {args.jti!r}", file=sys.stderr)
            return 1
        if args.action == "list":
            for token in await tokens.live_tokens():
                print(
                    f"{token.jti}  {token.principal_id:<24} expires {token.expires_at:%Y-%m-%d %H:%M}  {token.scopes}"
                )
            return 0
        return await _demo_tokens(settings, registry, databases, tokens)

    return asyncio.run(with_databases(run))


async def _issue(args: argparse.Namespace, registry: Registry, databases: Databases, tokens: TokenService) -> int:
    directory = registry.directory(databases)
    record = await directory.find(args.principal)
    if record is None:
        print(f"unknown principal {args.principal!r}; see `gateway principals`", file=sys.stderr)
        return 2
    scopes = tuple(s.strip() for s in (args.scopes or "").split(",") if s.strip()) or record.scopes
    beyond = set(scopes) - set(record.scopes)
    if record.kind != "partner" and beyond:
        print(f"{record.id} is staff: its access comes from its role, not from scopes", file=sys.stderr)
        return 2
    if record.kind == "partner" and beyond:
        print(
            f"{record.id} is not registered for {', '.join(sorted(beyond))}; "
            f"its scopes are {', '.join(record.scopes) or 'none'}",
            file=sys.stderr,
        )
        return 2
    if args.area is not None:
        problem = await _area_problem(directory, record, args.area)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    print(await tokens.issue(record.id, parse_ttl(args.ttl), scopes, args.area))
    return 0


async def _area_problem(directory: PrincipalDirectory, record: PrincipalRecord, text: str) -> str | None:
    """Why a token may not carry this area: malformed, unknown, or wider than the agency's own."""
    parsed = parse_area(text)
    if parsed is None:
        return f"--area must be street:ID, community:ID or grid:ID, got {text!r}"
    area = await directory.area(*parsed)
    if area is None:
        return f"no {parsed[0]} with id {parsed[1]}"
    own = record.area.grid_ids
    if own is not None and area.grid_ids is not None and not area.grid_ids <= own:
        return f"{text} ({area.name}) lies outside {record.id}'s area ({record.area.name})"
    return None


async def _demo_tokens(settings: Settings, registry: Registry, databases: Databases, tokens: TokenService) -> int:
    ttl = parse_ttl(settings.token_ttl)
    print("Demo principals and ready-to-paste tokens (header: Authorization: Bearer <token>):\n")
    directory = registry.directory(databases)
    for principal_id in registry.demo_principals.values():
        record = await directory.find(principal_id)
        if record is None:
            print(f"# {principal_id}: not in the database; run `gateway seed`", file=sys.stderr)
            continue
        print(f"# {record.role} — {record.name} ({record.id}, {record.area.kind}: {record.area.name})")
        print(await tokens.issue(record.id, ttl, record.scopes))
        print()
    return 0


def add_token_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    principals = sub.add_parser("principals", help="list principals (staff and partner agencies)")
    principals.add_argument("--json", action="store_true")
    principals.set_defaults(func=cmd_principals)

    token = sub.add_parser("token", help="issue, list and revoke tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    issue = token_sub.add_parser("issue", help="print a signed token for a principal")
    issue.add_argument("--principal", required=True)
    issue.add_argument("--ttl", default="8h", help="lifetime, e.g. 15m, 8h, 30d (default 8h)")
    issue.add_argument("--scopes", help="comma-separated scopes for a partner token, e.g. dispute:read,dispute:mediate")
    issue.add_argument("--area", help="narrow a partner token to street:ID, community:ID or grid:ID")
    revoke = token_sub.add_parser("revoke", help="revoke a token at once by its ID (jti)")
    revoke.add_argument("jti")
    token_sub.add_parser("list", help="list live tokens")
    token_sub.add_parser("demo", help="print a token for each demo principal")
    token.set_defaults(func=cmd_token)
