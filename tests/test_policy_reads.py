"""Rules on stored values, derived from the schema and the policies — a new field, type or
argument is covered without being listed here.

- Every argument and input field a role's schema offers tests only attributes the role reads
  in clear, or is a look-up its policy grants with a budget.
- Every path the schema offers to a personal column (``__sensitive__``, its copies and the
  values computed from it) serves exactly the role's rule for that attribute: clear, masked,
  absent, or the value only on some rows — checked on the demo data against the analyst's view.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_required_argument,
)

from gateway.kernel import load_registry
from gateway.policy import MASKS, TESTS, Attributes, Policy, field_access, load_policies, reads_in_clear
from gateway.schema import build_schema
from tests.harness import Gateway
from tests.test_role_snapshots import ROOT, SUBJECTS

# Fields whose value, on a resident party, is read through the link to the resident record.
THROUGH_LINK = {
    ("DisputeParty", "name"),
    ("DisputeParty", "phone"),
    ("DisputeParty", "idNumber"),
    ("GuestCheckIn", "guestName"),
    ("GuestCheckIn", "guestIdNumber"),
}

DOMAINS = load_registry().domains
ATTRIBUTES = Attributes.of(DOMAINS)
POLICIES = load_policies(ROOT / "policies")

# Arguments that test no stored value: paging, identity (the row scope decides what an id
# reaches), a position in the change feed, and an area — the rows' location, which the policy
# grants together with the rows (its fields name places, which every role may read).
STRUCTURAL_NAMES = {"first", "after", "last", "before", "afterEvent"}
STRUCTURAL_TYPES = {"AreaFilter"}
# The audit trail's own filters (the engine's, read only by the auditor, who reads the trail in clear).
EXEMPT_INPUTS = {"AuditFilter", "AccessFilter"}


def _tested(argument: Any) -> list[str] | None:
    definition = (argument.extensions or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    return None if TESTS not in metadata else list(metadata[TESTS])


@dataclass(frozen=True)
class Use:
    """One argument or input field, where the schema offers it."""

    where: str
    field: str  # the root field, for a budgeted look-up
    tested: list[str] | None
    type_name: str


def _uses(schema: GraphQLSchema) -> Iterator[Use]:
    """Every argument (of every object type but Mutation) and every input field reachable from them."""
    seen: set[str] = set()
    pending: deque[tuple[str, str, Any]] = deque()
    for name, named in schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or name.startswith("__") or name == "Mutation":
            continue
        for field_name, field in named.fields.items():
            for arg_name, argument in field.args.items():
                pending.append((f"{name}.{field_name}({arg_name})", field_name if name == "Query" else "", argument))
    while pending:
        where, root, argument = pending.popleft()
        named = get_named_type(argument.type)
        tested = _tested(argument)
        yield Use(where, root, tested, named.name)
        walk = named.name not in seen | EXEMPT_INPUTS | STRUCTURAL_TYPES
        if tested is None and isinstance(named, GraphQLInputObjectType) and walk:
            seen.add(named.name)
            for inner, inner_field in named.fields.items():
                pending.append((f"{named.name}.{inner}", root, inner_field))


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_every_argument_tests_only_what_the_role_reads_in_clear(name: str) -> None:
    policy = SUBJECTS[name]
    schema = build_schema(DOMAINS, policy)._schema
    problems = []
    for use in _uses(schema):
        if use.type_name in EXEMPT_INPUTS:
            continue
        if use.tested is None:
            structural = use.where.split("(")[-1].rstrip(")") in STRUCTURAL_NAMES or use.type_name in STRUCTURAL_TYPES
            identity = use.where.endswith("(id)") and use.type_name == "ID"
            leads_on = isinstance(schema.type_map.get(use.type_name), GraphQLInputObjectType)
            if not (structural or identity or leads_on):
                problems.append(f"{use.where} declares no TESTS: what stored values does it test?")
            continue
        if reads_in_clear(policy, ATTRIBUTES, use.tested):
            continue
        lookup = policy.lookup(use.field)
        if lookup is None:
            problems.append(f"{use.where} tests {use.tested}, which {name} does not read in clear")
    assert problems == [], "\n".join(problems)


def test_the_shipped_look_up_decisions() -> None:
    """Committee staff look residents up by ID number on a budget; grid workers cannot test ID numbers at all."""
    committee = build_schema(DOMAINS, POLICIES.roles["committee_staff"])._schema
    grid_worker = build_schema(DOMAINS, POLICIES.roles["grid_worker"])._schema
    assert committee.query_type is not None and grid_worker.query_type is not None
    assert "residentByIdNumber" in committee.query_type.fields
    assert "residentByIdNumber" not in grid_worker.query_type.fields
    for schema in (committee, grid_worker):
        resident_filter = schema.type_map["ResidentFilter"]
        assert isinstance(resident_filter, GraphQLInputObjectType)
        assert "idNumber" not in resident_filter.fields, "no filtering by a masked or denied value"
    gw_filter = grid_worker.type_map["ResidentFilter"]
    assert isinstance(gw_filter, GraphQLInputObjectType)
    assert "registered" not in gw_filter.fields, "grid workers may not read registeredAt, so may not bisect it"


# --- every path to a personal column -----------------------------------------------------------


def _readers() -> dict[str, list[str]]:
    """Type → its fields that show a personal value: a personal column, a copy of one, or a value computed from one."""
    found: dict[str, set[str]] = {}
    for type_name, personal in ATTRIBUTES.sensitive.items():
        for field_name in personal:
            found.setdefault(type_name, set()).add(field_name)
    for (type_name, field_name), home in ATTRIBUTES.copies().items():
        if ATTRIBUTES.is_personal(home):
            found.setdefault(type_name, set()).add(field_name)
    for computed in ATTRIBUTES.computed:
        if ATTRIBUTES.is_personal(computed):
            found.setdefault(computed[0], set()).add(computed[1])
    return {t: sorted(f) for t, f in found.items()}


READERS = _readers()


def _step(field: GraphQLField) -> tuple[str, GraphQLNamedType] | None:
    """How to select a field on the way to a type: its selection head and the type it leads to."""
    if any(is_required_argument(a) for a in field.args.values()):
        return None
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return None
    if "nodes" in named.fields and "pageInfo" in named.fields:
        node = get_named_type(named.fields["nodes"].type)
        return ("(first: 5) { nodes {" if "first" in field.args else " { nodes {"), node
    return " {", named


def _paths_to(schema: GraphQLSchema, target: str) -> list[list[tuple[str, str]]]:
    """For every field leading to ``target``: the shortest way there from the root, as (field, head) steps."""
    assert schema.query_type is not None
    shortest: dict[str, list[tuple[str, str]]] = {"Query": []}
    queue = deque(["Query"])
    edges: list[tuple[str, str, str]] = []
    while queue:
        here = queue.popleft()
        named = schema.type_map[here]
        assert isinstance(named, GraphQLObjectType)
        for field_name, field in named.fields.items():
            step = _step(field)
            if step is None or field_name in ("node", "me", "auditLog", "myTasks"):
                continue
            head, leads_to = step
            if leads_to.name == target:
                edges.append((here, field_name, head))
            if leads_to.name not in shortest and len(shortest[here]) < 8:
                shortest[leads_to.name] = [*shortest[here], (field_name, head)]
                queue.append(leads_to.name)
    return [[*shortest[parent], (field_name, head)] for parent, field_name, head in edges]


def _document(path: list[tuple[str, str]], fields: list[str]) -> str:
    text, closing = "", ""
    for field_name, head in path:
        text += f"{field_name}{head} "
        closing += " }" * head.count("{")
    return "{ " + text + "id " + " ".join(fields) + closing + " }"


def _collect(value: Any, depth: int) -> Iterator[dict[str, Any]]:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            yield from _collect(item, depth)
    elif depth == 0:
        yield value
    else:
        for key, inner in value.items():
            if key != "id":
                yield from _collect(inner, depth - 1 if key != "nodes" else depth)


def _is_masking_of(shown: Any, raw: Any) -> bool:
    return shown != raw and any(shown == mask.preview(raw) for mask in MASKS.values() if mask.needs_column is None)


async def _served(gw: Gateway, role: str) -> tuple[Policy, GraphQLSchema]:
    """The policy in force for a demo principal, and the schema the gateway serves it."""
    principal = await gw.runtime.authenticator.authenticate(f"Bearer {gw.tokens[role]}")
    return gw.runtime.policy_for(principal), gw.runtime.executor_for(principal).schema


@pytest.mark.parametrize("role", sorted(load_registry().demo_principals))
async def test_every_path_to_a_personal_value_obeys_the_rule(gw: Gateway, role: str) -> None:
    policy, schema = await _served(gw, role)
    checked: dict[str, int] = {}
    for type_name, fields in sorted(READERS.items()):
        outcomes = {f: field_access(policy, ATTRIBUTES, type_name, f) for f in fields}
        named = schema.type_map.get(type_name)
        shown = set(named.fields) if isinstance(named, GraphQLObjectType) else set()
        for field_name, outcome in outcomes.items():
            assert (field_name in shown) == (outcome != "denied"), f"{role}: {type_name}.{field_name} is {outcome}"
        readable = [f for f in fields if f in shown]
        if not readable:
            continue
        for path in _paths_to(schema, type_name):
            data = await gw.query(_document(path, readable), role=role)
            rows = [r for r in _collect(data, len(path)) if "id" in r]
            if not rows:
                continue
            ids = sorted({r["id"] for r in rows})
            body = " ".join(
                f'n{i}: node(id: "{pk}") {{ ... on {type_name} {{ {" ".join(readable)} }} }}'
                for i, pk in enumerate(ids)
            )
            raw = await gw.query(f"{{ {body} }}")
            truth = {pk: raw[f"n{i}"] for i, pk in enumerate(ids)}
            where = ".".join(step for step, _ in path)
            for row in rows:
                for field_name in readable:
                    got, real = row[field_name], truth[row["id"]][field_name]
                    label = f"{role}: {where}.{field_name} of {row['id']} ({outcomes[field_name]})"
                    if outcomes[field_name] == "allowed" and (type_name, field_name) in THROUGH_LINK:
                        # Read through the party's link under the reader's Resident rule: withheld
                        # where the resident lies outside what the reader may read of the register.
                        assert got in (real, None), label
                    elif outcomes[field_name] == "allowed":
                        assert got == real, label
                    elif outcomes[field_name] == "masked":
                        assert (got is None and real is None) or _is_masking_of(got, real), label
                    else:
                        assert got in (real, None), label
                    if got is not None:
                        checked[f"{type_name}.{field_name}"] = checked.get(f"{type_name}.{field_name}", 0) + 1
    if role in ("committee_staff", "grid_worker", "community_police", "city_analyst"):
        assert checked, f"{role}: no personal value was reached, so nothing was checked"


async def test_a_mediators_phone_obeys_the_staff_phone_rule(gw: Gateway) -> None:
    """The officer's finding: the same staff member's phone, through police grids and through mediators."""
    query = "{ mediators(first: 100) { nodes { id name phone } } }"
    full = {m["id"]: m for m in (await gw.query(query))["mediators"]["nodes"]}
    committee = (await gw.query(query, role="committee_staff"))["mediators"]["nodes"]
    phones = [(m["phone"], full[m["id"]]["phone"]) for m in committee if full[m["id"]]["phone"]]
    assert phones and all(shown == raw[:3] + "****" + raw[7:11] for shown, raw in phones)
    errors = await gw.errors(query, role="judicial_office")
    assert "Cannot query field 'phone' on type 'Mediator'" in errors[0]["message"]
    officers = "{ policeGrids(first: 100) { nodes { officers { name phone } } } }"
    for role in ("committee_staff", "grid_worker"):
        data = await gw.query(officers, role=role)
        staff_phones = {o["name"]: o["phone"] for g in data["policeGrids"]["nodes"] for o in g["officers"]}
        mediators = (await gw.query("{ mediators(first: 100) { nodes { name phone } } }", role=role))["mediators"]
        for mediator in mediators["nodes"]:
            if mediator["name"] in staff_phones:
                assert mediator["phone"] == staff_phones[mediator["name"]], role
