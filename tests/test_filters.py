"""Filters a front-end page needs: area, status, category, date range, name and ID-number look-up."""

from __future__ import annotations

from tests.harness import Gateway


async def test_area_filter_keeps_only_rows_of_that_area(gw: Gateway) -> None:
    grids = await gw.query("{ grids(first: 100) { nodes { id residents(first: 100) { totalCount } } } }")
    busiest = max(grids["grids"]["nodes"], key=lambda g: g["residents"]["totalCount"])
    data = await gw.query(
        "query($g: ID!) { residents(first: 100, filter: {area: {gridId: $g}}) { totalCount nodes { grid { id } } } }",
        {"g": busiest["id"]},
    )
    nodes = data["residents"]["nodes"]
    assert nodes and {n["grid"]["id"] for n in nodes} == {busiest["id"]}
    assert data["residents"]["totalCount"] == busiest["residents"]["totalCount"]


async def test_district_filter_contains_its_grids(gw: Gateway) -> None:
    query = "{ grids(first: 100) { nodes { id community { street { district { id } } } } } }"
    grids = (await gw.query(query))["grids"]["nodes"]
    district = grids[0]["community"]["street"]["district"]["id"]
    expected = {g["id"] for g in grids if g["community"]["street"]["district"]["id"] == district}
    data = await gw.query(
        "query($d: ID!) { grids(first: 100, filter: {area: {districtId: $d}}) { nodes { id } } }",
        {"d": district},
    )
    assert {g["id"] for g in data["grids"]["nodes"]} == expected


async def test_status_and_category_filters(gw: Gateway) -> None:
    every = (await gw.query("{ disputes(first: 100) { nodes { status category } } }"))["disputes"]["nodes"]
    status = every[0]["status"]
    data = await gw.query(f"{{ disputes(first: 100, filter: {{status: [{status}]}}) {{ nodes {{ status }} }} }}")
    assert len(data["disputes"]["nodes"]) == sum(1 for d in every if d["status"] == status)
    category = every[0]["category"]
    data = await gw.query(f"{{ disputes(first: 100, filter: {{category: {category}}}) {{ nodes {{ category }} }} }}")
    assert len(data["disputes"]["nodes"]) == sum(1 for d in every if d["category"] == category)


async def test_date_range_filter(gw: Gateway) -> None:
    every = (await gw.query("{ disputes(first: 100) { nodes { reportedAt } } }"))["disputes"]["nodes"]
    days = sorted(d["reportedAt"][:10] for d in every)
    middle = days[len(days) // 2]
    data = await gw.query(
        "query($d: Date!) { disputes(first: 100, filter: {reported: {since: $d}}) { nodes { reportedAt } } }",
        {"d": middle},
    )
    got = [d["reportedAt"][:10] for d in data["disputes"]["nodes"]]
    assert got and all(day >= middle for day in got)
    assert len(got) == sum(1 for day in days if day >= middle)


async def test_name_and_id_number_look_up(gw: Gateway) -> None:
    person = (await gw.query("{ residents(first: 1) { nodes { name idNumber } } }"))["residents"]["nodes"][0]
    by_name = await gw.query(
        "query($n: String!) { residents(first: 100, filter: {name: $n}) { nodes { name } } }",
        {"n": person["name"][1:]},
    )
    assert person["name"] in [n["name"] for n in by_name["residents"]["nodes"]]
    by_number = await gw.query(
        "query($n: String!) { residents(filter: {idNumber: $n}) { totalCount nodes { name } } }",
        {"n": person["idNumber"].lower()},
    )
    assert by_number["residents"]["totalCount"] == 1
    assert by_number["residents"]["nodes"][0]["name"] == person["name"]


async def test_like_wildcards_are_literal(gw: Gateway) -> None:
    data = await gw.query('{ residents(filter: {name: "%"}) { totalCount } }')
    assert data["residents"]["totalCount"] == 0
