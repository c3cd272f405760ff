"""Bad input gets a clear error with extensions.code; never a stack trace, never an HTTP 500."""

from __future__ import annotations

import pytest

from gateway.data import encode_id
from tests.harness import Gateway


@pytest.mark.parametrize(
    ("query", "variables", "needle"),
    [
        ("query($n: String!) { residentByIdNumber(idNumber: $n) { id } }", {"n": "12010119900101123"}, "17 digits"),
        ("query($n: String!) { residentByIdNumber(idNumber: $n) { id } }", {"n": "120101199001011230"}, "check digit"),
        ("query($n: String!) { residentByIdNumber(idNumber: $n) { id } }", {"n": "120101199013011239"}, "birth date"),
        (
            "query($n: String!) { residents(filter: {idNumber: $n}) { totalCount } }",
            {"n": "abc"},
            "filter.idNumber",
        ),
        ("query($a: String!) { residents(after: $a) { totalCount } }", {"a": "not-a-cursor!"}, "cursor"),
        ("query($a: String!) { residents(after: $a) { totalCount } }", {"a": "Zm9vOmJhcg"}, "cursor"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "@@@"}, "ID"),
        ("query($id: ID!) { resident(id: $id) { id } }", {"id": encode_id("Grid", 1)}, "not a Resident"),
        ("{ residents(first: -1) { totalCount } }", None, "first"),
        (
            '{ disputes(filter: {reported: {since: "2026-05-01", until: "2026-04-01"}}) { totalCount } }',
            None,
            "filter.reported",
        ),
        (
            "query($g: ID!) { grids(filter: {area: {gridId: $g, streetId: $g}}) { totalCount } }",
            {"g": encode_id("Grid", 1)},
            "at most one",
        ),
        ('{ vehicles(filter: {plate: "ABC"}) { totalCount } }', None, "filter.plate"),
    ],
)
async def test_bad_user_input(gw: Gateway, query: str, variables: dict[str, str] | None, needle: str) -> None:
    errors = await gw.errors(query, variables)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    assert needle in errors[0]["message"]
    assert "Traceback" not in str(errors)


async def test_wrong_variable_type_is_bad_user_input(gw: Gateway) -> None:
    errors = await gw.errors("query($f: Int) { residents(first: $f) { totalCount } }", {"f": "many"})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_field_fails_validation_without_suggestions(gw: Gateway) -> None:
    errors = await gw.errors("{ residents { nodes { nam } } }")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in errors[0]["message"]


async def test_syntax_error_is_a_parse_failure(gw: Gateway) -> None:
    errors = await gw.errors("{ residents { ")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_too_deep_query_is_refused(gw: Gateway) -> None:
    deep = (
        "{ grids { nodes { residents { nodes { household { members { nodes { household { members { nodes { "
        "household { members { nodes { household { number } } } } } } } } } } } } } } }"
    )
    errors = await gw.errors(deep)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
        (b'{"query": "{ me { id } }"}', "text/plain", 415),
        (b'["query"]', "application/json", 400),
        (b'{"query": "{ me { id } }", "variables": "[1]"}', "application/json", 400),
    ],
)
async def test_malformed_requests_are_4xx_not_500(gw: Gateway, body: bytes, content_type: str, status: int) -> None:
    response = await gw.client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {gw.tokens['city_analyst']}"},
    )
    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_mutation_over_get_is_refused(gw: Gateway) -> None:
    response = await gw.client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"Authorization": f"Bearer {gw.tokens['city_analyst']}"},
    )
    assert response.status_code in (200, 405)
    assert response.json()["errors"]


async def test_get_query_works(gw: Gateway) -> None:
    response = await gw.client.get(
        "/graphql",
        params={"query": "{ me { role } }"},
        headers={"Authorization": f"Bearer {gw.tokens['city_analyst']}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["role"] == "city_analyst"
