"""``gateway policy explain``: what a role (or a set of partner scopes) gets of a type or field, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.policy.check import closest
from gateway.policy.masks import MASKS
from gateway.policy.model import Access, Located, Policy, PolicySet, TypeRule

# Made-up values, to show what a mask leaves.
SAMPLES = {"id_number": "120101199001011234", "phone": "13812345678", "name": "张晓明"}

ROWS = {
    "area": "only rows inside the principal's own area (a grid worker's grid, a committee's community, "
    "an officer's police-grid grids, a partner's street)",
    "street": "rows anywhere in the street(s) the principal's own area lies in",
    "city": "every row in the city",
}

VERDICTS: dict[Access, str] = {
    "allowed": "allowed",
    "masked": "masked",
    "own_area_only": "allowed only on rows inside the principal's own area (null elsewhere, listed in "
    "extensions.redacted)",
    "denied": "denied (absent from the schema)",
}


class UnknownTarget(Exception):
    """A role, scope, type or field the policies or the schema do not know."""


def explain(
    policies: PolicySet,
    role: str | None,
    scopes: Sequence[str],
    target: str,
    full_schema_fields: Mapping[str, set[str]],
) -> str:
    """The explanation, or what was not understood."""
    try:
        return explanation(policies, role, scopes, target, full_schema_fields)
    except UnknownTarget as error:
        return str(error)


def explanation(
    policies: PolicySet,
    role: str | None,
    scopes: Sequence[str],
    target: str,
    full_schema_fields: Mapping[str, set[str]],
) -> str:
    """As ``explain``, raising UnknownTarget for what it does not know."""
    type_name, _, field_name = target.partition(".")
    fields = full_schema_fields.get(type_name)
    if fields is None:
        raise UnknownTarget(f"unknown type {type_name}{closest(type_name, full_schema_fields)}")
    if field_name and field_name not in fields:
        raise UnknownTarget(f"{type_name} has no field {field_name}{closest(field_name, fields)}")
    policy, grants, who = _chosen(policies, role, scopes)
    rule = policy.rule(type_name)
    lines = [f"{target} for {who} (policy version {policies.version})"]
    if field_name:
        access = policy.access(type_name, field_name)
        lines.append(VERDICTS[access])
        for grant in grants:
            why = _why(grant, type_name, field_name)
            lines.append(f"  why: {why}" if len(grants) == 1 else f"  {grant.name}: {why}")
        if access == "masked" and rule is not None:
            lines.append(f"  {_example(rule.masked[field_name])}")
    else:
        lines += _type_summary(policy, grants, type_name, fields)
    if rule is not None:
        lines += _rule_summary(rule)
    if not policy.enforce:
        lines.append("log-only (enforce: false): nothing is hidden or masked; what the policy denies is only audited")
    return "\n".join(lines)


def _chosen(policies: PolicySet, role: str | None, scopes: Sequence[str]) -> tuple[Policy, list[Policy], str]:
    """The policy in force, the files it comes from, and whose it is."""
    if role is not None:
        policy = policies.for_role(role)
        if policy is None:
            raise UnknownTarget(f"no policy for role {role!r} (roles: {', '.join(sorted(policies.roles))})")
        return policy, [policy], f"role {role}"
    chosen = sorted(set(scopes))
    if not chosen:
        raise UnknownTarget("name a role or at least one scope")
    unknown = [s for s in chosen if s not in policies.scopes]
    if unknown:
        known = ", ".join(sorted(policies.scopes))
        raise UnknownTarget(f"unknown scope(s) {', '.join(unknown)} (scopes: {known})")
    return policies.for_scopes(chosen), [policies.scopes[s] for s in chosen], f"scopes {', '.join(chosen)}"


def _file(policy: Policy) -> str:
    return policy.source.file if policy.source is not None else policy.name


def _why(policy: Policy, type_name: str, field_name: str) -> str:
    rule = policy.rule(type_name)
    if rule is None:
        return f"type not granted: {type_name} is not named in {_file(policy)}"
    if field_name == "id":
        return f"{type_name} is granted, and a granted type always shows its id"

    def at(key: str) -> Located | str:
        return rule.where.get(key) or _file(policy)

    if field_name in rule.deny:
        return f"listed under deny at {at(field_name)}"
    if field_name in rule.masked:
        return f"masked with {rule.masked[field_name]} at {at(field_name)}"
    if field_name in rule.own_area_only:
        return f"listed under own_area_only at {at(field_name)}"
    if rule.fields is None:
        return f"fields: '*' at {at('fields')}"
    if field_name in rule.fields:
        return f"listed in fields at {at(field_name)}"
    if "fields" in rule.where:
        return f"not in fields (fields at {at('fields')})"
    return f"{type_name} in {_file(policy)} lists no fields"


def _example(mask_name: str) -> str:
    mask = MASKS.get(mask_name)
    if mask is None:
        return f"mask {mask_name!r} is unknown: run `gateway policy check`"
    sample = SAMPLES.get(mask_name)
    if sample is None:
        return f"mask {mask_name}: {mask.description}"
    return f"mask {mask_name}: {mask.description}; e.g. {sample} → {mask.preview(sample)}"


def _type_summary(policy: Policy, grants: list[Policy], type_name: str, fields: set[str]) -> list[str]:
    rule = policy.rule(type_name)
    if rule is None:
        return ["not granted (absent from the schema)", *(f"  {g.name}: {_why(g, type_name, 'id')}" for g in grants)]
    by_access: dict[Access, list[str]] = {"allowed": [], "masked": [], "own_area_only": [], "denied": []}
    for name in sorted(fields):
        by_access[rule.access(name)].append(name)
    lines = ["granted"]
    for access, names in by_access.items():
        if access == "masked":
            names = [f"{n} ({rule.masked[n]})" for n in names]
        lines.append(f"  {access.replace('_', ' ')}: {', '.join(names) or '-'}")
    return lines


def _rule_summary(rule: TypeRule) -> list[str]:
    counts = "allowed (totalCount, statistics)" if rule.aggregate else "not allowed (no totalCount, no statistics)"
    limit = f"{rule.limit} a page" if rule.limit is not None else "the gateway's largest page size"
    return [f"rows: {rule.rows}: {ROWS[rule.rows]}", f"counts: {counts}", f"limit: {limit}"]
