"""``gateway schema export`` and ``gateway schema check``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.kernel import load_registry

SCHEMA_FILE = Path("schema.graphql")


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


def add_schema_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = sub.add_parser("schema", help="write or check schema.graphql")
    schema.add_argument("action", choices=["export", "check"])
    schema.add_argument("--output", default=str(SCHEMA_FILE))
    schema.set_defaults(func=cmd_schema)
