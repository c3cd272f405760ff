"""``gateway policy check`` and ``gateway policy explain``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.kernel import get_settings, load_registry
from gateway.policy import Attributes, UnknownTarget, explanation, load_and_check
from gateway.schema import build_schema, visible_fields


def cmd_policy(args: argparse.Namespace) -> int:
    registry = load_registry()
    folder = args.dir or get_settings().policy_dir
    fields = visible_fields(build_schema(registry.domains))
    policies, problems = load_and_check(folder, registry.domains, registry.demo_principals.keys(), fields)
    if args.action == "check" or policies is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        if policies is None or problems:
            return 1
        print(f"{len(policies.roles) + len(policies.scopes)} policy files OK (version {policies.version})")
        return 0
    if problems:
        print(f"warning: {len(problems)} problem(s) in {folder}; run `gateway policy check`", file=sys.stderr)
    scopes = [s.strip() for s in (args.scopes or "").split(",") if s.strip()]
    try:
        schema_for = lambda policy: build_schema(registry.domains, policy)._schema  # noqa: E731
        attributes = Attributes.of(registry.domains)
        print(explanation(policies, args.role, scopes, args.target, fields, schema_for, attributes))
    except UnknownTarget as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def add_policy_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="check the access policies, or explain what one grants")
    actions = policy.add_subparsers(dest="action", required=True)
    folder = argparse.ArgumentParser(add_help=False)
    folder.add_argument("--dir", type=Path, help="the policy folder (default: GATEWAY_POLICY_DIR, else policies)")
    actions.add_parser(
        "check", parents=[folder], help="check every policy file against the schema; exit 1 on any problem"
    )
    explain = actions.add_parser("explain", parents=[folder], help="what a role or scopes get of a type or field")
    who = explain.add_mutually_exclusive_group(required=True)
    who.add_argument("--role")
    who.add_argument("--scopes", help="comma-separated partner scopes, e.g. dispute:read")
    explain.add_argument("target", help="Type.field, or Type")
    policy.set_defaults(func=cmd_policy)
