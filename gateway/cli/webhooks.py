"""``gateway webhooks``: partner subscriptions delivered by signed HTTP POST (add, list, remove)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gateway.feed import WebhookStore, feeds_of, positions_of, webhook_key
from gateway.kernel import get_settings, load_registry
from gateway.pipeline import GraphQLRequest, Refused, Runtime, declared_purpose
from gateway.transport.webhooks import register


def _token(args: argparse.Namespace) -> str:
    text = sys.stdin.read() if args.token == "-" else args.token
    return text.strip()


def _document(args: argparse.Namespace) -> str:
    return Path(args.document).read_text(encoding="utf-8") if args.document else str(args.query or "")


async def _add(args: argparse.Namespace, runtime: Runtime, store: WebhookStore) -> int:
    variables = json.loads(args.variables) if args.variables else {}
    if not isinstance(variables, dict):
        print("--variables must be a JSON object", file=sys.stderr)
        return 2
    request = GraphQLRequest(_document(args), variables or None, args.operation_name)
    try:
        row, secret = await register(runtime, store, args.url, _token(args), request, declared_purpose(args.purpose))
    except Refused as refused:
        print(f"refused: {refused.errors[0]['message']}", file=sys.stderr)
        return 2
    print(f"webhook {row.id} for {row.principal_id} → {row.url} ({row.feeds})")
    # The only time the secret is shown: it is kept sealed and never printed again.
    print(f"signing secret (shown once): {secret}")
    return 0


async def _list(store: WebhookStore, as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
    for hook in await store.all():
        failures = await store.failures(hook.id)
        rows.append(
            {
                "id": hook.id,
                "principal": hook.principal_id,
                "token": hook.token_id,
                "url": hook.url,
                "feeds": [f"{domain}/{topic}" for domain, topic in feeds_of(hook)],
                "positions": positions_of(hook),
                "delivered": hook.delivered,
                "failed": hook.failed,
                "attempts": hook.attempts,
                "next_attempt_at": None if hook.next_attempt_at is None else hook.next_attempt_at.isoformat(),
                "last_error": hook.last_error,
                "failed_events": [failure.event_id for failure in failures],
            }
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        state = "ok" if not row["last_error"] else f"{row['last_error']} (attempt {row['attempts']})"
        print(
            f"{row['id']:>4}  {row['principal']:<24} {row['url']}  {','.join(row['feeds'])}  "
            f"delivered {row['delivered']}, failed {row['failed']}  {state}"
        )
        if row["failed_events"]:
            print(f"      failed deliveries: {', '.join(row['failed_events'])}")
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    async def run() -> int:
        runtime = Runtime(get_settings(), load_registry())
        store = WebhookStore(runtime.databases, webhook_key(runtime.settings.signing_key()))
        try:
            if args.action == "add":
                return await _add(args, runtime, store)
            if args.action == "remove":
                if await store.remove(args.id):
                    print(f"removed webhook {args.id}")
                    return 0
                print(f"no webhook {args.id}", file=sys.stderr)
                return 1
            return await _list(store, args.json)
        finally:
            await runtime.databases.dispose()

    return asyncio.run(run())


def add_webhook_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = sub.add_parser("webhooks", help="subscriptions delivered to a partner by signed HTTP POST")
    webhooks_sub = webhooks.add_subparsers(dest="action", required=True)
    add = webhooks_sub.add_parser("add", help="deliver a subscription document, run under a token, to a URL")
    add.add_argument("--url", required=True, help="http(s) URL on a host listed in GATEWAY_WEBHOOK_HOSTS")
    add.add_argument("--token", required=True, help="the partner's token (see `gateway token issue`), or - for stdin")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--document", help="a .graphql file holding the subscription")
    source.add_argument("--query", help="the subscription document itself")
    add.add_argument("--variables", help="its variables, as a JSON object")
    add.add_argument("--operation-name")
    add.add_argument("--purpose", help="the purpose recorded with every delivery (X-Purpose)")
    listing = webhooks_sub.add_parser("list", help="list webhooks, their positions, failures and last error")
    listing.add_argument("--json", action="store_true")
    remove = webhooks_sub.add_parser("remove", help="remove a webhook by its number")
    remove.add_argument("id", type=int)
    webhooks.set_defaults(func=cmd_webhooks)
