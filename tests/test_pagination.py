"""Relay connections: pages in a stable order, cursors that continue, counts that agree."""

from __future__ import annotations

from tests.harness import Gateway

PAGE = (
    "query($first: Int, $after: String) { residents(first: $first, after: $after) { totalCount "
    "edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
)


async def test_walking_pages_visits_every_row_once_in_order(gw: Gateway) -> None:
    seen: list[str] = []
    after = None
    total = None
    while True:
        page = (await gw.query(PAGE, {"first": 7, "after": after}))["residents"]
        total = page["totalCount"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    everything = (await gw.query(PAGE, {"first": 100}))["residents"]
    assert [e["node"]["id"] for e in everything["edges"]] == seen[:100]


async def test_page_size_is_capped_by_the_setting(gw: Gateway) -> None:
    errors = await gw.errors(PAGE, {"first": gw.settings.max_page_size + 1})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert str(gw.settings.max_page_size) in errors[0]["message"]


async def test_total_count_matches_filtered_rows(gw: Gateway) -> None:
    query = "{ residents(first: 100, filter: {registrationKind: FLOATING}) { totalCount nodes { registrationKind } } }"
    data = (await gw.query(query))["residents"]
    assert data["nodes"] and all(n["registrationKind"] == "FLOATING" for n in data["nodes"])
    assert data["totalCount"] == len(data["nodes"])


async def test_nested_total_count_agrees_with_nested_rows(gw: Gateway) -> None:
    data = await gw.query("{ grids(first: 100) { nodes { residents(first: 100) { totalCount nodes { id } } } } }")
    for grid in data["grids"]["nodes"]:
        assert grid["residents"]["totalCount"] == len(grid["residents"]["nodes"])


async def test_first_zero_returns_only_the_count(gw: Gateway) -> None:
    data = await gw.query("{ residents(first: 0) { totalCount nodes { id } pageInfo { hasNextPage } } }")
    assert data["residents"]["nodes"] == [] and data["residents"]["totalCount"] > 0
