"""Writes obey reads: an ID the caller cannot see is NOT_FOUND, exactly like one that does not exist, and nothing is written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.data import encode_id
from gateway.kernel import load_registry
from gateway.schema import build_schema
from gateway.write import mutation_references
from tests.harness import Gateway

REPORT = """mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id } }
}"""
COUNT = "{ disputes { totalCount } }"
SCALARS: dict[str, Any] = {
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Date": "2026-01-01",
    "DateTime": "2026-01-01T00:00:00+08:00",
    "Decimal": "1",
}


async def _resident_outside(gw: Gateway, role: str) -> str:
    """A resident the analyst sees and ``role`` does not."""
    seen = {
        n["id"] for n in (await gw.query("{ residents(first: 100) { nodes { id } } }", role=role))["residents"]["nodes"]
    }
    everyone = await gw.query("{ residents(first: 100) { nodes { id } } }", role="city_analyst")
    return str(next(n["id"] for n in everyone["residents"]["nodes"] if n["id"] not in seen))


async def _own_grid(gw: Gateway, role: str) -> str:
    return str((await gw.query("{ grids(first: 1) { nodes { id } } }", role=role))["grids"]["nodes"][0]["id"])


def _report(grid: str, resident: str | None) -> dict[str, Any]:
    return {
        "title": "楼道堆物",
        "category": "NEIGHBOUR",
        "description": "楼道堆放杂物",
        "gridId": grid,
        "parties": [{"role": "COMPLAINANT", "name": "王桂兰", "residentId": resident}],
    }


async def _refused(gw: Gateway, role: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await gw.post(query, variables, role)
    body = response.json()
    assert response.status_code == 200 and body.get("errors"), body
    assert not (body.get("data") or {}).get("reportDispute"), body
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_a_party_outside_the_callers_area_reads_exactly_like_one_that_does_not_exist(gw: Gateway) -> None:
    before = (await gw.query(COUNT))["disputes"]["totalCount"]
    grid = await _own_grid(gw, "committee_staff")
    hidden = await _resident_outside(gw, "committee_staff")
    missing = encode_id("Resident", 987654321)
    errors = [
        await _refused(gw, "committee_staff", REPORT, {"input": _report(grid, resident)})
        for resident in (hidden, missing)
    ]
    assert [e["extensions"] for e in errors] == [{"code": "NOT_FOUND", "argument": "input.parties[0].residentId"}] * 2
    # One message for both, naming the argument and not the ID sent.
    assert (
        errors[0]["message"] == errors[1]["message"] == "No Resident with the ID given in input.parties[0].residentId"
    )
    assert (await gw.query(COUNT))["disputes"]["totalCount"] == before, "nothing may be written"


async def test_a_volunteer_cannot_be_enrolled_from_a_resident_the_caller_cannot_see(gw: Gateway) -> None:
    hidden = await _resident_outside(gw, "committee_staff")
    teams = await gw.query("{ volunteerTeams(first: 1) { nodes { id } } }", role="committee_staff")
    enrol = """mutation Enrol($input: EnrolVolunteerInput!) { enrolVolunteer(input: $input) { volunteer { id } } }"""
    given = {
        "residentId": hidden,
        "teamId": teams["volunteerTeams"]["nodes"][0]["id"],
        "gridId": await _own_grid(gw, "committee_staff"),
        "skills": ["巡逻防控"],
    }
    before = (await gw.query("{ volunteers { totalCount } }"))["volunteers"]["totalCount"]
    response = (await gw.post(enrol, {"input": given}, "committee_staff")).json()
    assert response["errors"][0]["extensions"] == {"code": "NOT_FOUND", "argument": "input.residentId"}, response
    assert (await gw.query("{ volunteers { totalCount } }"))["volunteers"]["totalCount"] == before


def test_every_id_in_every_mutation_input_is_checked() -> None:
    """Derived from the schema: each ID-typed argument or input field, however deep, is found."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, parse
    from graphql.language import print_ast

    schema = build_schema(load_registry().domains)._schema
    assert schema.mutation_type is not None

    def unwrap(type_: Any) -> Any:
        while isinstance(type_, GraphQLNonNull | GraphQLList):
            type_ = type_.of_type
        return type_

    def sample(type_: Any, paths: list[str], path: str) -> Any:
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            return [sample(inner.of_type, paths, f"{path}[0]")]
        inner = unwrap(inner)
        if inner.name == "ID":
            paths.append(path)
            return encode_id("Probe", len(paths))
        if isinstance(inner, GraphQLInputObjectType):
            return {name: sample(field.type, paths, f"{path}.{name}") for name, field in inner.fields.items()}
        if isinstance(inner, GraphQLEnumType):
            return next(iter(inner.values))
        return SCALARS.get(inner.name, "x")

    checked = 0
    for name, field in schema.mutation_type.fields.items():
        expected: list[str] = []
        variables = {arg: sample(a.type, expected, arg) for arg, a in field.args.items()}
        declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
        passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
        document = parse(
            f"mutation{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''} {{ __typename }} }}"
        )
        definition = document.definitions[0]
        found = mutation_references(schema, document, definition, variables)  # type: ignore[arg-type]
        assert sorted(path for _, path, _ in found) == sorted(expected), (name, print_ast(document))
        checked += len(expected)
    assert checked > 20, "the schema's mutations take IDs; none were found"


def test_one_helper_owns_the_answer_for_a_missing_or_hidden_row() -> None:
    """Every NOT_FOUND is made by ``gateway.kernel.not_found`` (one message everywhere); no other
    code answers a missing row with a message of its own or with BAD_USER_INPUT."""
    root = Path(__file__).resolve().parent.parent
    own = re.compile(r"\bNotFound\(|BadUserInput\([^)]*\b(no such|unknown|not found)\b", re.IGNORECASE)
    offenders = []
    for folder in ("gateway", "resolvers"):
        for path in sorted((root / folder).rglob("*.py")):
            if path == root / "gateway" / "kernel" / "errors.py":
                continue
            offenders += [
                f"{path.relative_to(root)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if own.search(line)
            ]
    assert not offenders, offenders
