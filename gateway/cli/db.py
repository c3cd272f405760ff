"""``gateway db`` (migrations) and ``gateway seed``."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli.session import with_databases
from gateway.data import Databases
from gateway.kernel import Registry, Settings


def cmd_db(args: argparse.Namespace) -> int:
    from gateway.data import migrate

    if args.action == "upgrade":
        migrate.upgrade(revision=args.revision or "heads")
    elif args.action == "downgrade":
        migrate.downgrade(args.revision or "base")
    else:
        migrate.revision(args.message or "change", args.domain)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    async def run(settings: Settings, registry: Registry, databases: Databases) -> int:
        written = await registry.seed(databases, args.residents, args.scale if args.city else 0.0)
        for table, count in written.items():
            print(f"{table}: {count}")
        if not written:
            print("demo data already present; nothing written")
        return 0

    return asyncio.run(with_databases(run))


def add_db_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database migrations (Alembic)")
    db.add_argument("action", choices=["upgrade", "downgrade", "revision"])
    db.add_argument("revision", nargs="?")
    db.add_argument("-m", "--message")
    db.add_argument("--domain", help="revision: in this domain's own migrations folder rather than the engine's")
    db.set_defaults(func=cmd_db)

    seed = sub.add_parser("seed", help="write the demo data (when absent) and optional synthetic residents")
    seed.add_argument("--residents", type=int, default=0, help="add N synthetic residents")
    seed.add_argument(
        "--city", action="store_true", help="add the whole city: 13.6 M residents and what hangs off them (PostgreSQL)"
    )
    seed.add_argument("--scale", type=float, default=1.0, help="with --city: this fraction of it, e.g. 0.01")
    seed.set_defaults(func=cmd_seed)
