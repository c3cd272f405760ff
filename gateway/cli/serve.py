"""``gateway serve``."""

from __future__ import annotations

import argparse
import sys

from gateway.kernel import get_settings

# Idle keep-alive connections are held longer than a router or proxy in front holds its own (Hive
# Gateway's fetch: 4 s; uvicorn's default: 5 s). Were the server the first to close, a request the
# router sent on the connection at that moment would be lost ("socket hang up"): seen under load.
KEEP_ALIVE_SECONDS = 75


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    if args.subgraph:
        from gateway.kernel import load_registry

        names = load_registry().names
        if args.subgraph not in names:
            print(f"no domain named {args.subgraph!r}; the domains are {', '.join(names)}", file=sys.stderr)
            return 2
        # The workers read their settings from the environment.
        os.environ["GATEWAY_SUBGRAPH"] = args.subgraph
        get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "gateway.app:app_from_env",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level="info",
        # uvicorn's access line prints the full URL, query string and all; the gateway writes its own.
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def add_serve_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve /graphql with uvicorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--subgraph", metavar="DOMAIN", help="serve this domain alone as a Federation v2 subgraph (for a router)"
    )
    serve.set_defaults(func=cmd_serve)
