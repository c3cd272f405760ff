"""``gateway schema export`` and ``gateway schema check``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.kernel import load_registry

SCHEMA_FILE = Path("schema.graphql")
# The whole supergraph, composed for subgraphs on their default loopback ports, kept in sync by a test.
SUPERGRAPH_DIR = Path("gateway/schema/federation/supergraph")


def cmd_schema(args: argparse.Namespace) -> int:
    from gateway.schema import build_schema, export_sdl

    sdl = export_sdl(build_schema(load_registry().domains))
    target = Path(args.output)
    if args.action == "check":
        if not target.exists() or target.read_text() != sdl:
            print(f"{target} is out of date: run `gateway schema export`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(sdl)
    print(f"wrote {target} ({len(sdl.splitlines())} lines)")
    return 0


def cmd_supergraph(args: argparse.Namespace) -> int:
    """Compose the subgraphs: the whole supergraph (checked in), and one per role or scope set asked for."""
    from gateway.kernel import get_settings
    from gateway.policy import Policy, load_policies
    from gateway.schema.compose import CompositionError, compose_all, default_urls, file_name, subgraphs

    domains = load_registry().domains
    urls = default_urls(domains)
    for item in args.url:
        name, _, url = item.partition("=")
        if name not in urls or not url:
            print(f"--url {item}: give DOMAIN=URL, DOMAIN one of {', '.join(urls)}", file=sys.stderr)
            return 2
        urls[name] = url
    policies = load_policies(get_settings().policy_dir)
    wanted: list[Policy | None] = [None]
    if args.roles:
        wanted += list(policies.roles.values())
    wanted += [policies.for_scopes(s.split(",")) for s in args.scopes]
    target = Path(args.output)
    try:
        composed = compose_all({file_name(p): subgraphs(domains, p, urls) for p in wanted})
    except CompositionError as error:
        print(f"composition failed:\n{error}", file=sys.stderr)
        return 1
    stale = []
    for name, result in composed.items():
        path = target / name
        if args.check:
            if not path.exists() or path.read_text() != result.supergraph:
                stale.append(str(path))
            continue
        target.mkdir(parents=True, exist_ok=True)
        path.write_text(result.supergraph)
        print(f"wrote {path} ({len(result.supergraph.splitlines())} lines)")
    if stale:
        print(f"out of date: {', '.join(stale)}: run `gateway schema supergraph`", file=sys.stderr)
        return 1
    if args.check:
        print(f"{target / file_name(None)} is up to date")
    return 0


def add_schema_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = sub.add_parser("schema", help="write or check schema.graphql, or compose the federated supergraphs")
    actions = schema.add_subparsers(dest="action", required=True)
    for action in ("export", "check"):
        plain = actions.add_parser(action, help=f"{action} schema.graphql")
        plain.add_argument("--output", default=str(SCHEMA_FILE))
        plain.set_defaults(func=cmd_schema)
    supergraph = actions.add_parser(
        "supergraph", help="compose the subgraphs (`gateway serve --subgraph`) into supergraph SDL for a router"
    )
    supergraph.add_argument("--output", default=str(SUPERGRAPH_DIR), help="folder of the supergraph files")
    supergraph.add_argument("--url", action="append", default=[], metavar="DOMAIN=URL", help="a subgraph's URL")
    supergraph.add_argument("--roles", action="store_true", help="also one supergraph per role (role-<role>.graphql)")
    supergraph.add_argument(
        "--scopes", action="append", default=[], metavar="A,B", help="also one for this partner scope set"
    )
    supergraph.add_argument("--check", action="store_true", help="fail when the files differ from a fresh composition")
    supergraph.set_defaults(func=cmd_supergraph)
