"""The ``gateway`` command: one module per command group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.cli.audit import add_audit_commands
from gateway.cli.db import add_db_commands
from gateway.cli.documents import add_document_commands
from gateway.cli.keys import add_key_commands
from gateway.cli.policy import add_policy_commands
from gateway.cli.schema import add_schema_commands
from gateway.cli.serve import add_serve_commands
from gateway.cli.tokens import add_token_commands
from gateway.cli.webhooks import add_webhook_commands
from gateway.kernel import GatewayError

__all__ = ["main", "parser"]

GROUPS = (
    add_serve_commands,
    add_db_commands,
    add_token_commands,
    add_schema_commands,
    add_audit_commands,
    add_policy_commands,
    add_key_commands,
    add_document_commands,
    add_webhook_commands,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway", description="GraphQL data-sharing gateway for grassroots governance")
    sub = p.add_subparsers(dest="command", required=True)
    for add in GROUPS:
        add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GatewayError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
