"""``gateway policy check``: what a policy file asks that the schema, the tables or the masks cannot do.

Each problem reads ``file:line: message``. These go to the policy's author, not to an API
caller, so unlike GraphQL errors they may name the closest real type or field.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from strawberry.types.base import has_object_definition
from strawberry.types.private import is_private

from gateway.kernel import Domain, graphql_name
from gateway.policy.attributes import COMPUTED_FROM, READS, TESTS, Attributes, attribute, field_name_of, named_type
from gateway.policy.masks import MASKS
from gateway.policy.model import (
    ENGINE_GOVERNED,
    PRESET_SOURCES,
    Located,
    Policy,
    PolicyError,
    PolicySet,
    TypeRule,
    load_policies,
)
from gateway.policy.rows import has_area

Problem = tuple[Located, str]


def check_policies(
    policies: PolicySet,
    full_schema_fields: Mapping[str, set[str]],
    tables: Mapping[str, type[Any]],
    known_roles: Iterable[str],
    attributes: Attributes | None = None,
    lookups: Mapping[str, Any] | None = None,
) -> list[str]:
    """Every problem of every policy, in file and line order; empty when all is well.

    With ``attributes``, also what the code declares a field reads; with ``lookups`` (root
    field name → its Strawberry field), what a budgeted look-up may name.
    """
    known = set(known_roles)
    problems: list[Problem] = []
    for role, policy in policies.roles.items():
        if role not in known:
            problems.append((_start(policy), f"role {role!r} is not a known role ({', '.join(sorted(known))})"))
    governed = {*tables, *ENGINE_GOVERNED}
    for policy in (*policies.roles.values(), *policies.scopes.values()):
        for type_name, rule in policy.types.items():
            problems += _check_type(policy, type_name, rule, full_schema_fields, tables, governed)
        problems += _check_mutations(policy, full_schema_fields.get("Mutation", set()))
        problems += _check_lookups(policy, lookups, full_schema_fields.get("Query", set()))
        if attributes is not None:
            problems += _check_copies(policy, attributes)
    if attributes is not None:
        problems += reads_problems(attributes)
    problems.sort(key=lambda p: (p[0].file, p[0].line))
    return [f"{at}: {message}" for at, message in problems]


def _check_mutations(policy: Policy, mutations: set[str]) -> list[Problem]:
    at = policy.source or Located("?", 1)
    problems: list[Problem] = []
    for name, rule in policy.mutations.items():
        if name not in mutations:
            problems.append((at, f"unknown mutation {name!r}{closest(name, mutations)}"))
        for field, source in rule.presets.items():
            if source not in PRESET_SOURCES:
                known = ", ".join(PRESET_SOURCES)
                problems.append((at, f"mutation {name}: preset {field} from unknown source {source!r} ({known})"))
    return problems


def load_and_check(
    folder: Path,
    domains: Sequence[Domain],
    known_roles: Iterable[str],
    full_schema_fields: Mapping[str, set[str]],
) -> tuple[PolicySet | None, list[str]]:
    """Read and check the policies under ``folder`` against the full schema's fields (type → fields);
    None when they cannot even be read."""
    try:
        policies = load_policies(folder)
    except PolicyError as error:
        return None, error.problems
    except (OSError, UnicodeError, yaml.YAMLError) as error:
        # A file removed or half-written while being read.
        return None, [f"{folder}: {error}"]
    tables = {name: model for d in domains for name, (model, _) in d.types.items()}
    attributes = Attributes.of(domains)
    roots = {field_name_of(f): f for d in domains for f in d.query.__strawberry_definition__.fields}
    return policies, check_policies(policies, full_schema_fields, tables, known_roles, attributes, roots)


def _check_lookups(policy: Policy, roots: Mapping[str, Any] | None, query_fields: set[str]) -> list[Problem]:
    at = policy.source or Located("?", 1)
    problems: list[Problem] = []
    for name in policy.lookups:
        if name not in query_fields:
            problems.append((at, f"unknown look-up {name!r}{closest(name, query_fields)}"))
        elif roots is not None and name in roots and not any(TESTS in a.metadata for a in roots[name].arguments):
            problems.append((at, f"look-up {name} tests no attribute, so a budget would not apply to it"))
    return problems


def _check_copies(policy: Policy, attributes: Attributes) -> list[Problem]:
    """A rule written for a field that reads another type's attribute would be ignored: say where it goes."""
    problems: list[Problem] = []
    for (type_name, field_name), (home_type, home_field) in sorted(attributes.copies().items()):
        rule = policy.rule(type_name)
        if rule is None:
            continue
        listed = (rule.fields or frozenset()) | rule.deny | set(rule.masked) | rule.own_area_only
        if field_name in listed:
            at = rule.where.get(field_name) or _start(policy)
            problems.append(
                (
                    at,
                    f"{type_name}.{field_name} reads {home_type}.{home_field}: its rule is the one written for "
                    f"{home_type}.{home_field}; remove it here",
                )
            )
    return problems


def _is_link(field: Any) -> bool:
    return has_object_definition(named_type(field.type))


def _where(cls: type[Any]) -> Located:
    try:
        return Located(
            str(Path(inspect.getsourcefile(cls) or cls.__module__).relative_to(Path.cwd())),
            inspect.getsourcelines(cls)[1],
        )
    except (OSError, TypeError, ValueError):
        return Located(cls.__module__, 1)


def _undeclared(attributes: Attributes, type_name: str, field: Any, personal: list[str]) -> str | None:
    """What is wrong with what one field of a governed type declares it reads, if anything."""
    name = field_name_of(field)
    if name == "id" or is_private(field.type) or _is_link(field):
        return None
    table = attributes.models[type_name].__tablename__
    columns = attributes.columns[type_name]
    if READS in field.metadata:
        home = attribute(field.metadata[READS])
        if home[1] in attributes.columns.get(home[0], set()) or home in attributes.computed:
            return None
        return f"{type_name}.{name} reads {field.metadata[READS]}, which is no attribute of a governed type"
    if COMPUTED_FROM in field.metadata:
        unknown = [c for c in field.metadata[COMPUTED_FROM] if graphql_name(c) not in columns]
        return f"{type_name}.{name} is computed from {', '.join(unknown)}, not columns of {table}" if unknown else None
    if name in columns:
        return None
    holds = f"; {table} holds personal columns ({', '.join(personal)})" if personal else ""
    return (
        f"{type_name}.{name} is not a column of {table} and declares nothing it reads, "
        f"so no rule covers it{holds}: declare READS or COMPUTED_FROM"
    )


def reads_problems(attributes: Attributes) -> list[Problem]:
    """Fields no rule can cover: a value read but not declared, or declared wrong.

    Every value field of a type backed by a table is a column of that table (its rule is the
    column's), declares the columns it is computed from (``COMPUTED_FROM``: a rule of its own),
    or declares the attribute it reads (``READS``). Anything else could show a personal column
    that no rule governs.
    """
    problems: list[Problem] = []
    for type_name, model in sorted(attributes.models.items()):
        cls = attributes.classes[type_name]
        at = _where(cls)
        columns = attributes.columns[type_name]
        personal = sorted(attributes.sensitive[type_name])
        for column, reference in getattr(model, "__reads__", {}).items():
            home_type, home_field = attribute(reference)
            if graphql_name(column) not in columns:
                problems.append(
                    (at, f"{model.__tablename__}.__reads__ names {column!r}, which is not one of its columns")
                )
            elif home_field not in attributes.columns.get(home_type, set()):
                problems.append(
                    (at, f"{type_name}.{graphql_name(column)} reads {reference}, which is no column of a governed type")
                )
        for field in cls.__strawberry_definition__.fields:
            message = _undeclared(attributes, type_name, field, personal)
            if message is not None:
                problems.append((at, message))
    return problems


def closest(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the nearest of ``choices``, or nothing."""
    found = difflib.get_close_matches(name, sorted(choices), n=1)
    return f" (did you mean {found[0]}?)" if found else ""


def _start(policy: Policy) -> Located:
    return policy.source or Located(policy.name, 1)


def _type_line(policy: Policy, rule: TypeRule) -> Located:
    # The type's own key is not recorded; its first recorded key is on that line or the next.
    if rule.where:
        return min(rule.where.values(), key=lambda at: at.line)
    return _start(policy)


def _check_type(
    policy: Policy,
    type_name: str,
    rule: TypeRule,
    full_schema_fields: Mapping[str, set[str]],
    tables: Mapping[str, type[Any]],
    governed: set[str],
) -> list[Problem]:
    start = _type_line(policy, rule)
    fields = full_schema_fields.get(type_name)
    if fields is None:
        return [(start, f"unknown type {type_name}{closest(type_name, governed & set(full_schema_fields))}")]
    if type_name not in governed:
        return [(start, f"{type_name} is not governed by policies (it shows wherever a granted field leads)")]

    def at(key: str) -> Located:
        return rule.where.get(key, start)

    problems: list[Problem] = []
    listed = {
        "fields": rule.fields or frozenset(),
        "deny": rule.deny,
        "masked": frozenset(rule.masked),
        "own_area_only": rule.own_area_only,
    }
    for key, names in listed.items():
        for name in sorted(names - fields):
            problems.append((at(name), f"unknown field {type_name}.{name} under {key}{closest(name, fields)}"))
    for key in ("deny", "masked", "own_area_only"):
        if "id" in listed[key]:
            problems.append((at(key), f"{type_name}.id is always shown; it cannot be under {key}"))
    problems += _overlaps(type_name, listed, at)

    model = tables.get(type_name)
    columns = {graphql_name(c.key) for c in model.__table__.columns} if model is not None else set()
    for name, mask_name in sorted(rule.masked.items()):
        mask = MASKS.get(mask_name)
        if mask is None:
            known = ", ".join(MASKS)
            problems.append((at(name), f"unknown mask {mask_name!r} for {type_name}.{name} (masks: {known})"))
        elif model is None:
            problems.append((at(name), f"{type_name} has no table, so the mask on {name} would not apply"))
        elif mask.needs_column is not None and mask.needs_column not in model.__table__.c:
            table = model.__table__.name
            problems.append((at(name), f"mask {mask_name} needs a {mask.needs_column} column; table {table} has none"))
        if model is not None and name in fields and name not in columns:
            problems.append((at(name), f"{type_name}.{name} is not a column, so it cannot be masked"))

    area = model is not None and has_area(model)
    if model is not None and not area and rule.rows != "city":
        said = "" if "rows" in rule.where else " (the default)"
        problems.append((at("rows"), f"rows: {rule.rows}{said}, but {type_name} rows lie in no area: write rows: city"))
    for name in sorted(rule.own_area_only & fields):
        if not area:
            problems.append((at(name), f"own_area_only on {type_name}.{name}, but {type_name} rows lie in no area"))
        elif name not in columns:
            problems.append((at(name), f"{type_name}.{name} is not a column, so it cannot be own_area_only"))

    granted = rule.fields is None or bool(rule.fields - {"id"} or rule.masked or rule.own_area_only)
    if not granted and not rule.aggregate:
        problems.append((start, f"{type_name} grants no field and no counts, so the type stays hidden"))
    return problems


# Which of two lists wins when a field is on both; see TypeRule.access.
_PRECEDENCE = (
    ("deny", "fields", "it is denied"),
    ("deny", "masked", "it is denied"),
    ("deny", "own_area_only", "it is denied"),
    ("masked", "own_area_only", "it is masked on every row"),
    ("fields", "masked", "it is masked"),
    ("fields", "own_area_only", "it is null outside the own area"),
)


def _overlaps(type_name: str, listed: Mapping[str, frozenset[str]], at: Callable[[str], Located]) -> list[Problem]:
    problems: list[Problem] = []
    for first, second, outcome in _PRECEDENCE:
        for name in sorted((listed[first] & listed[second]) - {"id"}):
            problems.append((at(name), f"{type_name}.{name} is under both {first} and {second}: {outcome}"))
    return problems
