"""``gateway audit verify``, ``gateway audit tail`` and ``gateway audit anchor``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.audit import (
    AUDIT_DOMAIN,
    AnchorError,
    AuditRecord,
    AuditTrail,
    anchor_problem,
    audit_key,
    read_anchor,
    sign_anchor,
    utc,
)
from gateway.data import Databases
from gateway.kernel import get_settings


async def _with_trail(action: Callable[[AuditTrail], Awaitable[int]]) -> int:
    databases = Databases(get_settings(), (AUDIT_DOMAIN,))
    try:
        return await action(AuditTrail(databases))
    finally:
        await databases.dispose()


async def _verify(trail: AuditTrail, anchor_file: Path | None) -> int:
    anchor = None
    if anchor_file is not None:
        try:
            anchor = read_anchor(anchor_file, audit_key(get_settings()))
        except AnchorError as error:
            print(f"audit trail not verified: {error}", file=sys.stderr)
            return 1
    report = await trail.verify()
    if not report.ok:
        print(report.describe(), file=sys.stderr)
        return 1
    problem = None if anchor is None else await anchor_problem(trail, anchor)
    if problem is not None:
        print(f"audit trail truncated or replaced: {problem}", file=sys.stderr)
        return 1
    print(report.describe() + ("" if anchor is None else f", anchor at record {anchor.seq} matches"))
    return 0


async def _anchor(trail: AuditTrail) -> int:
    seq, hash = await trail.head()
    print(json.dumps(sign_anchor(audit_key(get_settings()), seq, hash).as_json()))
    return 0


def line(record: AuditRecord) -> str:
    """One record on one line: when, who, what, which fields and how many rows of each type."""
    rows = " ".join(f"{kind}×{len(ids)}" for kind, ids in sorted(json.loads(record.row_ids).items()))
    fields = ",".join(json.loads(record.fields))
    probes = len(json.loads(record.probes)) if record.probes else 0
    return (
        f"{record.seq:>6}  {utc(record.recorded_at):%Y-%m-%d %H:%M:%S}Z  {record.principal_id:<24} {record.role:<18} "
        f"{record.operation_type:<8} {record.operation_name or '-':<24} {record.outcome:<7} "
        f"fields={fields or '-'} rows={rows or '-'} probes={probes}"
    )


async def _tail(trail: AuditTrail, n: int) -> int:
    for record in await trail.tail(n):
        print(line(record))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return asyncio.run(_with_trail(lambda trail: _verify(trail, args.anchor)))
    if args.action == "anchor":
        return asyncio.run(_with_trail(_anchor))
    return asyncio.run(_with_trail(lambda trail: _tail(trail, args.n)))


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of records, got {text!r}")
    return int(text)


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="check and read the audit trail")
    actions = audit.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="recompute the hash chain; exit 1 at the first record that does not fit")
    verify.add_argument(
        "--anchor", type=Path, help="an anchor file from `gateway audit anchor`: exit 1 if the trail falls short of it"
    )
    actions.add_parser("anchor", help="print the chain head (seq, hash), signed, to keep outside the database")
    tail = actions.add_parser("tail", help="print the last records, one a line")
    tail.add_argument("-n", type=_count, default=20, help="how many records (default 20)")
    audit.set_defaults(func=cmd_audit)
