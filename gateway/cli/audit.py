"""``gateway audit verify`` and ``gateway audit tail``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from gateway.audit import AUDIT_DOMAIN, AuditRecord, AuditTrail, utc
from gateway.data import Databases
from gateway.kernel import get_settings


async def _with_trail(action: Callable[[AuditTrail], Awaitable[int]]) -> int:
    databases = Databases(get_settings(), (AUDIT_DOMAIN,))
    try:
        return await action(AuditTrail(databases))
    finally:
        await databases.dispose()


async def _verify(trail: AuditTrail) -> int:
    report = await trail.verify()
    print(report.describe(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def line(record: AuditRecord) -> str:
    """One record on one line: when, who, what, which fields and how many rows of each type."""
    rows = " ".join(f"{kind}×{len(ids)}" for kind, ids in sorted(json.loads(record.row_ids).items()))
    fields = ",".join(json.loads(record.fields))
    return (
        f"{record.seq:>6}  {utc(record.recorded_at):%Y-%m-%d %H:%M:%S}Z  {record.principal_id:<24} {record.role:<18} "
        f"{record.operation_type:<8} {record.operation_name or '-':<24} {record.outcome:<6} "
        f"fields={fields or '-'} rows={rows or '-'}"
    )


async def _tail(trail: AuditTrail, n: int) -> int:
    for record in await trail.tail(n):
        print(line(record))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return asyncio.run(_with_trail(_verify))
    return asyncio.run(_with_trail(lambda trail: _tail(trail, args.n)))


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of records, got {text!r}")
    return int(text)


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="check and read the audit trail")
    actions = audit.add_subparsers(dest="action", required=True)
    actions.add_parser("verify", help="recompute the hash chain; exit 1 at the first record that does not fit")
    tail = actions.add_parser("tail", help="print the last records, one a line")
    tail.add_argument("-n", type=_count, default=20, help="how many records (default 20)")
    audit.set_defaults(func=cmd_audit)
