"""The policy matrix: every policy × governed type × field, as data — what ``/policies`` shows.

Each cell is :func:`gateway.policy.describe.field_verdict`, the very function behind
``gateway policy explain``, so the page and the command cannot disagree (a test walks both).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLObjectType, get_named_type

from gateway.policy.attributes import Attributes
from gateway.policy.describe import ROWS, SchemaFor, field_verdict
from gateway.policy.model import ENGINE_GOVERNED, Policy, PolicySet


def governed_types(attributes: Attributes, fields: Mapping[str, set[str]]) -> list[str]:
    """The types policies govern (table-backed ones and the audit trail), as the schema names them."""
    return sorted(t for t in {*attributes.governed, *ENGINE_GOVERNED} if t in fields)


def _policies(policies: PolicySet) -> Iterable[tuple[str, str, Policy, list[Policy]]]:
    for role, policy in sorted(policies.roles.items()):
        yield "role", role, policy, [policy]
    for scope, policy in sorted(policies.scopes.items()):
        yield "scope", scope, policy, [policy]


def _plain(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value


def _limits(policy: Policy) -> dict[str, Any]:
    """Per-request rate limits and the document mode, where the policy model has them (``rate_limits:``,
    ``documents:``); read by name so that a model without them shows none."""
    return {
        "rateLimits": _plain(getattr(policy, "rate_limits", None)),
        "documents": getattr(policy, "documents", None),
    }


def _root_fields(policy: Policy, schema_for: SchemaFor) -> list[dict[str, Any]]:
    """The root fields the policy's own schema has, each with the arguments it keeps."""
    schema = schema_for(policy if policy.enforce else None)
    out = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        if not isinstance(root, GraphQLObjectType):
            continue
        for name, field in sorted(root.fields.items()):
            arguments = []
            for argument_name, argument in field.args.items():
                named = get_named_type(argument.type)
                inner = sorted(named.fields) if isinstance(named, GraphQLInputObjectType) else None
                arguments.append({"name": argument_name, "type": named.name, "fields": inner})
            out.append({"kind": kind, "name": name, "arguments": arguments})
    return out


def policy_matrix(
    policies: PolicySet, fields: Mapping[str, set[str]], attributes: Attributes, schema_for: SchemaFor | None = None
) -> dict[str, Any]:
    """The whole matrix as JSON-ready data; root fields and their arguments too when ``schema_for`` is given."""
    types = governed_types(attributes, fields)
    out: list[dict[str, Any]] = []
    for kind, key, policy, grants in _policies(policies):
        granted = []
        for type_name in types:
            rule = policy.rule(type_name)
            if rule is None:
                continue
            cells = {}
            for field_name in sorted(fields[type_name]):
                verdict = field_verdict(policy, grants, attributes, type_name, field_name)
                cells[field_name] = {
                    "access": verdict.access,
                    "mask": verdict.mask,
                    "example": verdict.example,
                    "why": list(verdict.why),
                }
            granted.append(
                {
                    "name": type_name,
                    "rows": rule.rows,
                    "rowCondition": ROWS[rule.rows],
                    "aggregate": rule.aggregate,
                    "limit": rule.limit,
                    "fields": cells,
                }
            )
        entry: dict[str, Any] = {
            "kind": kind,
            "name": key,
            "description": policy.description,
            "enforce": policy.enforce,
            "source": str(policy.source) if policy.source is not None else None,
            "pages": sorted(policy.pages),
            "lookups": {name: {"budgetPerHour": rule.budget} for name, rule in sorted(policy.lookups.items())},
            "mutations": {
                name: {"check": grant.check, "presets": dict(grant.presets)}
                for name, grant in sorted(policy.mutations.items())
            },
            "types": granted,
            **_limits(policy),
        }
        if schema_for is not None:
            entry["rootFields"] = _root_fields(policy, schema_for)
        out.append(entry)
    return {"version": policies.version, "types": {t: sorted(fields[t]) for t in types}, "policies": out}


def _index(matrix: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["kind"], p["name"]): p for p in matrix["policies"]}


def _cell(policy: Mapping[str, Any], type_name: str, field_name: str) -> str:
    for rule in policy["types"]:
        if rule["name"] == type_name:
            cell = rule["fields"].get(field_name)
            if cell is None:
                return "denied"
            return f"masked ({cell['mask']})" if cell["access"] == "masked" else str(cell["access"])
    return "denied"


def matrix_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """What changed from one matrix to the next: one item per policy, type, field, mutation or look-up."""
    changes: list[dict[str, str]] = []
    old, new = _index(before), _index(after)

    def note(who: tuple[str, str], what: str, was: str, now: str) -> None:
        changes.append({"policy": f"{who[0]} {who[1]}", "what": what, "before": was, "after": now})

    for who in sorted(old.keys() | new.keys()):
        if who not in new:
            note(who, "policy", "present", "removed")
            continue
        if who not in old:
            note(who, "policy", "absent", "added")
            continue
        a, b = old[who], new[who]
        rules_a = {r["name"]: r for r in a["types"]}
        rules_b = {r["name"]: r for r in b["types"]}
        for type_name in sorted(rules_a.keys() | rules_b.keys()):
            ra, rb = rules_a.get(type_name), rules_b.get(type_name)
            if ra is None or rb is None:
                note(who, type_name, "granted" if ra else "not granted", "granted" if rb else "not granted")
            else:
                for key in ("rows", "aggregate", "limit"):
                    if ra[key] != rb[key]:
                        note(who, f"{type_name} {key}", str(ra[key]), str(rb[key]))
            names = set((ra or {}).get("fields", {})) | set((rb or {}).get("fields", {}))
            for field_name in sorted(names):
                was, now = _cell(a, type_name, field_name), _cell(b, type_name, field_name)
                if was != now:
                    note(who, f"{type_name}.{field_name}", was, now)
        for key in ("rateLimits", "documents"):
            if a.get(key) != b.get(key):
                note(who, key, str(a.get(key) or "-"), str(b.get(key) or "-"))
        for key in ("mutations", "lookups"):
            for name in sorted(a[key].keys() | b[key].keys()):
                was, now = a[key].get(name), b[key].get(name)
                if was != now:
                    note(who, f"{key[:-1]} {name}", str(was or "not granted"), str(now or "not granted"))
        if a["pages"] != b["pages"]:
            note(who, "pages", ", ".join(a["pages"]) or "-", ", ".join(b["pages"]) or "-")
    return changes
