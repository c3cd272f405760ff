"""``gateway documents``: the trusted documents (add, list, remove)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gateway.cli.session import with_databases
from gateway.data import Databases
from gateway.documents import DocumentStore, parse_document_id
from gateway.kernel import Registry, Settings
from gateway.schema import build_schema


def cmd_documents(args: argparse.Namespace) -> int:
    async def run(settings: Settings, registry: Registry, databases: Databases) -> int:
        store = DocumentStore(databases)
        if args.action == "add":
            body = Path(args.file).read_text(encoding="utf-8")
            # Validated against the full schema: each caller's own schema still decides when it runs.
            row = await store.add(body, args.client, build_schema(registry.domains)._schema)
            print(f"sha256:{row.hash}  {row.client}  {row.operations or '(anonymous)'}")
            return 0
        if args.action == "remove":
            digest = parse_document_id(args.hash)
            if digest is None or not await store.remove(digest):
                print(f"no trusted document {args.hash!r}", file=sys.stderr)
                return 1
            print(f"removed sha256:{digest}")
            return 0
        for row in await store.all(args.client):
            print(
                f"sha256:{row.hash}  {row.client:<20} {row.added_at:%Y-%m-%d %H:%M}  {row.operations or '(anonymous)'}"
            )
        return 0

    return asyncio.run(with_databases(run))


def add_document_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documents = sub.add_parser("documents", help="trusted documents: reviewed operations run by hash")
    documents_sub = documents.add_subparsers(dest="action", required=True)
    add = documents_sub.add_parser("add", help="list a .graphql file (one or more operations) for a client")
    add.add_argument("file")
    add.add_argument("--client", required=True, help="the client (partner application) it is listed for")
    listing = documents_sub.add_parser("list", help="list trusted documents")
    listing.add_argument("--client")
    remove = documents_sub.add_parser("remove", help="remove a trusted document by its hash")
    remove.add_argument("hash", help="sha256:<hex> or <hex>")
    documents.set_defaults(func=cmd_documents)
