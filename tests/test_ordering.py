"""orderBy and backward paging on connections: orders hold, pages walk both ways, cursors stay in their ordering."""

from __future__ import annotations

from typing import Any

from tests.harness import Gateway

RESIDENTS = (
    "query($first: Int, $after: String, $last: Int, $before: String, $order: ResidentOrder) {"
    " residents(first: $first, after: $after, last: $last, before: $before, orderBy: $order) { totalCount"
    " edges { cursor node { id name registeredAt } }"
    " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
)


async def _walk_forward(gw: Gateway, order: dict[str, str] | None, size: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gw.query(RESIDENTS, {"first": size, "after": after, "order": order}))["residents"]
        seen += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def _walk_backward(gw: Gateway, order: dict[str, str] | None, size: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    before = None
    while True:
        page = (await gw.query(RESIDENTS, {"last": size, "before": before, "order": order}))["residents"]
        seen = [edge["node"] for edge in page["edges"]] + seen
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            return seen
        before = page["pageInfo"]["startCursor"]


async def test_each_order_sorts_and_walks_the_same_rows_both_ways(gw: Gateway) -> None:
    everything = (await gw.query(RESIDENTS, {"first": 100}))["residents"]
    ids = sorted(edge["node"]["id"] for edge in everything["edges"])
    assert everything["totalCount"] == len(ids) > 7
    for order, key in [
        (None, None),
        ({"id": "DESC"}, None),
        ({"name": "ASC"}, "name"),
        ({"name": "DESC"}, "name"),
        ({"registeredAt": "DESC"}, "registeredAt"),
    ]:
        forward = await _walk_forward(gw, order, 4)
        backward = await _walk_backward(gw, order, 4)
        assert forward == backward, order
        assert sorted(node["id"] for node in forward) == ids, order
        if key is not None:
            values = [node[key] for node in forward]
            descending = order is not None and order[key] == "DESC"
            assert values == sorted(values, reverse=descending), order


async def test_newest_first_reverses_the_default_order(gw: Gateway) -> None:
    default = (await gw.query(RESIDENTS, {"first": 100}))["residents"]["edges"]
    newest = (await gw.query(RESIDENTS, {"first": 100, "order": {"id": "DESC"}}))["residents"]["edges"]
    assert [e["node"]["id"] for e in newest] == [e["node"]["id"] for e in reversed(default)]


async def test_last_alone_is_the_end_of_the_list(gw: Gateway) -> None:
    everything = [e["node"]["id"] for e in (await gw.query(RESIDENTS, {"first": 100}))["residents"]["edges"]]
    tail = (await gw.query(RESIDENTS, {"last": 3}))["residents"]
    assert [e["node"]["id"] for e in tail["edges"]] == everything[-3:]
    assert tail["pageInfo"] == {**tail["pageInfo"], "hasPreviousPage": True, "hasNextPage": False}


async def test_first_and_last_together_are_refused(gw: Gateway) -> None:
    errors = await gw.errors(RESIDENTS, {"first": 2, "last": 2})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first or last" in errors[0]["message"]


async def test_two_order_keys_are_refused(gw: Gateway) -> None:
    errors = await gw.errors(RESIDENTS, {"first": 2, "order": {"name": "ASC", "id": "DESC"}})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "orderBy"


async def test_a_cursor_is_refused_under_another_ordering(gw: Gateway) -> None:
    page = (await gw.query(RESIDENTS, {"first": 2, "order": {"name": "ASC"}}))["residents"]
    cursor = page["pageInfo"]["endCursor"]
    for order in (None, {"name": "DESC"}, {"registeredAt": "ASC"}):
        for argument in ("after", "before"):
            errors = await gw.errors(RESIDENTS, {"first": 2, argument: cursor, "order": order})
            assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (order, argument)
            assert "another orderBy" in errors[0]["message"]
    plain = (await gw.query(RESIDENTS, {"first": 2}))["residents"]["pageInfo"]["endCursor"]
    errors = await gw.errors(RESIDENTS, {"first": 2, "after": plain, "order": {"name": "ASC"}})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_holds_no_value_of_its_row(gw: Gateway) -> None:
    import base64

    page = (await gw.query(RESIDENTS, {"first": 3, "order": {"name": "ASC"}}))["residents"]
    for edge in page["edges"]:
        text = base64.urlsafe_b64decode(edge["cursor"] + "=" * (-len(edge["cursor"]) % 4)).decode()
        assert edge["node"]["name"] not in text
        assert text.startswith("cursor:name:asc:")


async def test_a_cursor_naming_a_hidden_row_finds_nothing_past_it(gw: Gateway) -> None:
    """A forged cursor's sort value is read through the reader's row scope: a row outside the area
    is as absent as a missing one, so paging past it tells nothing of its value."""
    import base64

    seen = await gw.query("{ residents(first: 50) { nodes { id } } }", role="grid_worker")
    visible = {node["id"] for node in seen["residents"]["nodes"]}
    everything = (await gw.query("{ residents(first: 100) { nodes { id } } }"))["residents"]["nodes"]
    hidden = next(node["id"] for node in everything if node["id"] not in visible)
    pk = base64.urlsafe_b64decode(hidden + "=" * (-len(hidden) % 4)).decode().split(":")[1]
    forged = base64.urlsafe_b64encode(f"cursor:name:asc:{pk}".encode()).decode().rstrip("=")
    for argument in ("after", "before"):
        query = f'{{ residents(first: 50, {argument}: "{forged}", orderBy: {{name: ASC}}) {{ nodes {{ id }} }} }}'
        assert (await gw.query(query, role="grid_worker"))["residents"]["nodes"] == []


async def test_nested_connections_order_and_page_backwards(gw: Gateway) -> None:
    query = (
        "query($order: ResidentOrder, $last: Int) { grids(first: 100) { nodes {"
        " residents(first: 100) { nodes { id } }"
        " ordered: residents(last: $last, orderBy: $order) { nodes { id name } pageInfo { hasPreviousPage } } } } }"
    )
    data = await gw.query(query, {"order": {"name": "DESC"}, "last": 2})
    checked = 0
    for grid in data["grids"]["nodes"]:
        names = [node["name"] for node in grid["ordered"]["nodes"]]
        assert names == sorted(names, reverse=True)
        everything = grid["residents"]["nodes"]
        assert grid["ordered"]["pageInfo"]["hasPreviousPage"] == (len(everything) > 2)
        checked += len(everything) > 2
    assert checked


TASKS = (
    "query($first: Int, $after: String, $last: Int, $before: String, $order: TaskOrder) {"
    " myTasks(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {"
    " nodes { id urgency createdAt } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
)


async def walked_tasks(gw: Gateway, role: str, order: Any, size: int) -> tuple[list[Any], list[Any]]:
    """``role``'s tasks in ``order``, page by page of ``size``: from the start forward, and from the end
    backward."""
    forward: list[Any] = []
    after = None
    while True:
        page = (await gw.query(TASKS, {"first": size, "after": after, "order": order}, role=role))["myTasks"]
        forward += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[Any] = []
    before = None
    while True:
        page = (await gw.query(TASKS, {"last": size, "before": before, "order": order}, role=role))["myTasks"]
        backward = page["nodes"] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    return forward, backward


async def test_tasks_order_and_walk_both_ways(gw: Gateway) -> None:
    role = "community_police"
    everything = (await gw.query(TASKS, {"first": 100}, role=role))["myTasks"]["nodes"]
    assert len(everything) > 3
    for order in (None, {"urgency": "ASC"}, {"createdAt": "ASC"}, {"createdAt": "DESC"}):
        forward, backward = await walked_tasks(gw, role, order, 2)
        assert forward == backward, order
        assert sorted(t["id"] for t in forward) == sorted(t["id"] for t in everything), order
        whole = (await gw.query(TASKS, {"first": 100, "order": order}, role=role))["myTasks"]["nodes"]
        assert whole == forward
        if order is not None and "createdAt" in order:
            times = [t["createdAt"] for t in forward]
            assert times == sorted(times, reverse=order["createdAt"] == "DESC")
    assert [t["id"] for t in everything] == [
        t["id"]
        for t in reversed(
            (await gw.query(TASKS, {"first": 100, "order": {"urgency": "ASC"}}, role=role))["myTasks"]["nodes"]
        )
    ]
