"""``gateway policy explain``: what a role (or a set of partner scopes) gets of a type or field, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_non_null_type,
)

from gateway.policy.attributes import TESTS, Attributes, field_access, reads_in_clear
from gateway.policy.check import closest
from gateway.policy.masks import MASKS
from gateway.policy.model import Access, Located, Policy, PolicySet, TypeRule

# A policy's own schema (None: the full schema), for what the policy alone cannot say: root
# fields, arguments, fields that follow from other grants.
SchemaFor = Callable[[Policy | None], GraphQLSchema]

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
    schema_for: SchemaFor | None = None,
    attributes: Attributes | None = None,
) -> str:
    """The explanation, or what was not understood."""
    try:
        return explanation(policies, role, scopes, target, full_schema_fields, schema_for, attributes)
    except UnknownTarget as error:
        return str(error)


def explanation(
    policies: PolicySet,
    role: str | None,
    scopes: Sequence[str],
    target: str,
    full_schema_fields: Mapping[str, set[str]],
    schema_for: SchemaFor | None = None,
    attributes: Attributes | None = None,
) -> str:
    """As ``explain``, raising UnknownTarget for what it does not know.

    With ``schema_for`` (a policy's own schema), fields of types no policy names (root fields,
    statistics) are explained from the schema the role actually gets, and a field's arguments
    are listed; with ``attributes``, a field reading another type's attribute is explained by
    that attribute's rule.
    """
    type_name, _, field_name = target.partition(".")
    fields = full_schema_fields.get(type_name)
    if fields is None:
        raise UnknownTarget(f"unknown type {type_name}{closest(type_name, full_schema_fields)}")
    if field_name and field_name not in fields:
        raise UnknownTarget(f"{type_name} has no field {field_name}{closest(field_name, fields)}")
    policy, grants, who = _chosen(policies, role, scopes)
    rule = policy.rule(type_name)
    lines = [f"{target} for {who} (policy version {policies.version})"]
    governed = type_name in (attributes.governed if attributes is not None else set(policies_types(policies)))
    if field_name and not governed and schema_for is not None:
        lines += _from_schema(policy, type_name, field_name, schema_for, attributes)
    elif field_name:
        verdict = field_verdict(policy, grants, attributes, type_name, field_name)
        access = verdict.access
        lines.append(VERDICTS[access])
        lines += [f"  {line}" for line in verdict.why]
        if verdict.example is not None:
            lines.append(f"  {verdict.example}")
        if schema_for is not None and access != "denied":
            lines += _arguments(policy, type_name, field_name, schema_for)
    else:
        lines += _type_summary(policy, grants, type_name, fields)
    if rule is not None:
        lines += _rule_summary(rule)
    if not policy.enforce:
        lines.append("log-only (enforce: false): nothing is hidden or masked; what the policy denies is only audited")
    return "\n".join(lines)


@dataclass(frozen=True)
class FieldVerdict:
    """What one policy grants of one field, and why: ``gateway policy explain`` prints it, /policies shows it."""

    access: Access
    why: tuple[str, ...]
    mask: str | None = None
    example: str | None = None


def field_verdict(
    policy: Policy, grants: Sequence[Policy], attributes: Attributes | None, type_name: str, field_name: str
) -> FieldVerdict:
    """The verdict on ``type_name.field_name`` under ``policy`` (made of ``grants``: one role's file, or scopes)."""
    home = attributes.home(type_name, field_name) if attributes is not None else (type_name, field_name)
    access = field_access(policy, attributes, type_name, field_name)
    why: list[str] = []
    if home != (type_name, field_name):
        why.append(f"reads {home[0]}.{home[1]}: the rule written for {home[0]}.{home[1]} governs it")
        if policy.rule(type_name) is None:
            why.append(f"{type_name} itself is not granted")
    for grant in grants:
        reason = _why(grant, *home)
        why.append(f"why: {reason}" if len(grants) == 1 else f"{grant.name}: {reason}")
    home_rule = policy.rule(home[0])
    mask = home_rule.masked.get(home[1]) if access == "masked" and home_rule is not None else None
    return FieldVerdict(access, tuple(why), mask, _example(mask) if mask is not None else None)


def chosen(policies: PolicySet, role: str | None, scopes: Sequence[str]) -> tuple[Policy, list[Policy], str]:
    """The policy in force for a role or a set of scopes, the files it comes from, and whose it is."""
    return _chosen(policies, role, scopes)


def policies_types(policies: PolicySet) -> set[str]:
    """Every type some policy names: those a policy governs, when the tables are not at hand."""
    return {name for p in (*policies.roles.values(), *policies.scopes.values()) for name in p.types}


def _from_schema(
    policy: Policy, type_name: str, field_name: str, schema_for: SchemaFor, attributes: Attributes | None
) -> list[str]:
    """A field of a type no policy names (a root field, a statistic): present where it follows from grants."""
    own = schema_for(policy).type_map.get(type_name)
    if not isinstance(own, GraphQLObjectType) or field_name not in own.fields:
        full = schema_for(None).type_map[type_name]
        assert isinstance(full, GraphQLObjectType)
        lines = ["denied (absent from the schema)"]
        lines += [f"  why: {reason}" for reason in _absent_because(policy, full.fields[field_name], attributes)]
        return lines
    lines = ["allowed"]
    if type_name == "Query":
        lookup = policy.lookup(field_name)
        rest = schema_for(None).type_map[type_name]
        assert isinstance(rest, GraphQLObjectType)
        tested = [t for a in rest.fields[field_name].args.values() for t in _tests(a)]
        if lookup is not None and tested and not reads_in_clear(policy, attributes, tested):
            lines.append(
                f"  a look-up by a value read masked, granted under lookups: {lookup.budget} probes an hour per "
                "principal, each alias and list element spending one (RATE_LIMITED beyond), each audited"
            )
    target = get_named_type(own.fields[field_name].type)
    lines.append(f"  returns {target.name}, as the policy grants its fields")
    return lines + _arguments(policy, type_name, field_name, schema_for)


def _absent_because(policy: Policy, field: Any, attributes: Attributes | None) -> list[str]:
    definition = (field.extensions or {}).get("strawberry-definition")
    metadata: Mapping[str, Any] = getattr(definition, "metadata", None) or {}
    reasons = []
    counted = metadata.get("counts")
    if counted is not None:
        rule = policy.rule(counted)
        if rule is None or not rule.aggregate:
            reasons.append(f"it counts {counted}, and counts of {counted} are not open (aggregate)")
    for required in metadata.get("requires", ()):
        if not reads_in_clear(policy, attributes, [required]) and policy.rule(required.partition(".")[0]) is None:
            reasons.append(f"it requires {required}, which is not granted")
    for name, argument in field.args.items():
        tested = _tests(argument)
        if tested and is_non_null_type(argument.type) and not reads_in_clear(policy, attributes, tested):
            reasons.append(
                f"its required argument {name} tests {', '.join(tested)}, not read in clear (and no lookups: grant)"
            )
    target = _listed(get_named_type(field.type))
    if attributes is not None and target in attributes.governed and policy.rule(target) is None:
        reasons.append(f"it leads to {target}, which the policy does not grant")
    return reasons or ["it leads only to what the policy does not grant"]


def _listed(named: GraphQLNamedType) -> str:
    return named.name.removesuffix("Connection")


def _tests(argument: Any) -> list[str]:
    definition = (argument.extensions or {}).get("strawberry-definition")
    return list(getattr(definition, "metadata", {}).get(TESTS, ()))


def _arguments(policy: Policy, type_name: str, field_name: str, schema_for: SchemaFor) -> list[str]:
    """The arguments the role has on this field, input fields spelled out, and those it lacks, with why."""
    full_type = schema_for(None).type_map.get(type_name)
    own_type = schema_for(policy).type_map.get(type_name)
    if not isinstance(full_type, GraphQLObjectType) or not isinstance(own_type, GraphQLObjectType):
        return []
    full, own = full_type.fields[field_name], own_type.fields.get(field_name)
    if not full.args:
        return []
    has = own.args if own is not None else {}
    lines = ["arguments:"]
    for name, argument in full.args.items():
        if name not in has:
            lines.append(
                f"  {name}: absent — tests {', '.join(_tests(argument)) or 'what is not granted'}, not read in clear"
            )
            continue
        named = get_named_type(has[name].type)
        if isinstance(named, GraphQLInputObjectType):
            full_input = get_named_type(argument.type)
            assert isinstance(full_input, GraphQLInputObjectType)
            present = ", ".join(named.fields) or "-"
            lines.append(f"  {name}: {named.name} {{{present}}}")
            for inner, inner_field in full_input.fields.items():
                if inner not in named.fields:
                    lines.append(f"    {inner}: absent — tests {', '.join(_tests(inner_field))}, not read in clear")
        else:
            lines.append(f"  {name}: {named.name}")
    return lines


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
