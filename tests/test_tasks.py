"""Work prompts: each principal's ``myTasks`` lists what is pending in its own area, most urgent
first, and ``taskAssigned`` pushes a task as it arises, only to subscribers of that area."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Hashable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from graphql import ExecutionResult, parse, subscribe

from gateway.auth import Principal
from gateway.data import decode_pk, encode_id
from gateway.kernel import Kept
from gateway.policy import Policy, PolicyScope
from resolvers.tasks.kinds import all_kinds
from resolvers.tasks.reading import page_of_tasks
from tests.harness import Gateway, database_url, running_gateway
from tests.test_ordering import TASKS, walked_tasks

MY_TASKS = """
query Tasks($first: Int, $after: String) {
  myTasks(first: $first, after: $after) {
    edges { cursor node { id kind urgency title subjectId createdAt grid { id } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
REPORT = """
mutation Report($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }
"""
TASK_ASSIGNED = "subscription { taskAssigned { eventId subjectId task { id kind urgency title grid { id } } } }"

# police.demo's police grid is bound to grids 15, 16 and 18; what is pending there in the demo.
OFFICER_TASKS = [
    "PlateAlert:2:dispatch",
    "Resident:11:review",
    "Dispute:4:mediate",
    "Dispute:6:follow_up",
    "DogLicence:3:decide",
    "DogLicence:2:pre_review",
]


@pytest.fixture(scope="module")
def tasks_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("tasks"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def tg(tasks_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests report disputes. The first tests read the demo as seeded."""
    async with running_gateway(*tasks_url) as gateway:
        yield gateway


async def _tasks(gw: Gateway, role: str, first: int | None = None, after: str | None = None) -> dict[str, Any]:
    return dict((await gw.query(MY_TASKS, {"first": first, "after": after}, role=role))["myTasks"])


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def _report(gw: Gateway, role: str, grid: int | None = None) -> int:
    given: dict[str, Any] = {
        "title": "楼道噪音 / noise in the stairwell",
        "category": "NOISE",
        "description": "夜间噪音扰民 / noise at night",
        "parties": [{"role": "COMPLAINANT", "name": "王建国"}],
    }
    if grid is not None:
        given["gridId"] = encode_id("Grid", grid)
    data = await gw.query(REPORT, {"input": given}, role=role)
    return decode_pk(data["reportDispute"]["dispute"]["id"], "Dispute")


def test_each_kind_has_its_own_urgency() -> None:
    # A page resumes after (urgency, time, record ID): two kinds sharing an urgency would mix their IDs.
    kinds = all_kinds()
    assert len({kind.urgency for kind in kinds}) == len(kinds)
    assert [kind.urgency for kind in kinds] == sorted((kind.urgency for kind in kinds), reverse=True)


async def test_the_officer_sees_what_is_pending_in_its_area_most_urgent_first(tg: Gateway) -> None:
    connection = await _tasks(tg, "community_police")
    assert _ids(connection) == OFFICER_TASKS
    nodes = [edge["node"] for edge in connection["edges"]]
    assert [n["urgency"] for n in nodes] == sorted((n["urgency"] for n in nodes), reverse=True)
    assert {n["grid"]["id"] for n in nodes} <= {encode_id("Grid", g) for g in (15, 16, 18)}
    assert nodes[0]["kind"] == "ALERT_RAISED" and nodes[0]["subjectId"] == encode_id("PlateAlert", 2)
    assert nodes[0]["title"] == "指派号牌预警(未登记号牌) / dispatch plate alert (plate not registered)"
    assert nodes[1]["title"] == "审核人口登记(户籍人口) / review a registration (registered resident)"
    assert nodes[2]["title"] == "调解纠纷 MD2026000004(租赁纠纷) / mediate dispute MD2026000004 (tenancy)"
    assert nodes[3]["title"] == "回访纠纷 MD2026000006(邻里纠纷) / follow up dispute MD2026000006 (between neighbours)"
    # Ids and categories only: no resident's name reaches a title.
    assert not any("林雪" in n["title"] for n in nodes)


async def test_committee_and_grid_worker_get_only_their_kinds_and_their_area(tg: Gateway) -> None:
    # The committee's community holds grid 17, where a dispute awaits acceptance, and grid 16, where
    # one is being mediated; the pending registration of grid 16 is the police's to review.
    assert _ids(await _tasks(tg, "committee_staff")) == ["Dispute:5:accept", "Dispute:4:mediate"]
    assert _ids(await _tasks(tg, "grid_worker")) == []


@pytest.mark.parametrize("role", ["auditor", "traffic_camera", "rental_platform"])
async def test_roles_without_tasks_have_no_my_tasks(tg: Gateway, role: str) -> None:
    errors = await tg.errors("{ myTasks { edges { node { id } } } }", role=role)
    assert "Cannot query field 'myTasks'" in errors[0]["message"]


async def test_the_city_analyst_has_no_tasks(tg: Gateway) -> None:
    response = (await tg.post("{ myTasks { edges { node { id } } } }", role="city_analyst")).json()
    assert response.get("data") in (None, {"myTasks": {"edges": []}}), response


async def test_pages_follow_one_order_and_the_count_agrees(tg: Gateway) -> None:
    first = await _tasks(tg, "community_police", first=2)
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = await _tasks(tg, "community_police", first=2, after=first["pageInfo"]["endCursor"])
    third = await _tasks(tg, "community_police", first=2, after=second["pageInfo"]["endCursor"])
    assert _ids(first) + _ids(second) + _ids(third) == OFFICER_TASKS
    assert not third["pageInfo"]["hasNextPage"] and third["pageInfo"]["hasPreviousPage"]
    principal = await tg.runtime.authenticator.authenticate(f"Bearer {tg.tokens['community_police']}")
    page = await page_of_tasks(tg.runtime.context_for(principal), 2, None)
    assert await page.total_count() == len(OFFICER_TASKS)


async def test_a_kept_plan_answers_as_a_fresh_one_whatever_changed(tg: Gateway) -> None:
    """Task statements are built once per principal, policy and page and kept: every change of what
    they depend on (area, staff row, role's policy, page) must get statements of its own."""
    runtime = tg.runtime
    officer = await runtime.authenticator.authenticate(f"Bearer {tg.tokens['community_police']}")
    record = officer.record
    moved = replace(record.area, grid_ids=frozenset({16, 17}), street_grid_ids=frozenset({16, 17}))
    variants = [
        officer,
        replace(officer, record=replace(record, area=moved)),
        replace(officer, record=replace(record, staff_id=None)),
        replace(officer, record=replace(record, role="committee_staff")),
    ]
    committee = runtime.policies.for_role("committee_staff")
    assert committee is not None

    async def answer(principal: Principal, plans: Kept[Hashable, Any], policy: Policy | None = None) -> Any:
        ctx = runtime.context_for(principal)
        ctx.plans = plans
        if policy is not None:
            ctx.policy, ctx.scope = policy, PolicyScope(policy, runtime.type_names)
        page = await page_of_tasks(ctx, 3, None)
        return [edge.node.id for edge in page.edges], page.page_info.end_cursor, await page.total_count()

    shared: Kept[Hashable, Any] = Kept(64)
    seen = []
    for principal in variants * 2:
        kept, fresh = await answer(principal, shared), await answer(principal, Kept(1))
        assert kept == fresh, principal
        seen.append(kept)
    assert seen[1] != seen[0] and seen[3] != seen[0]  # another area, another role: other tasks
    # The same principal under another policy (policies reloaded) does not reuse the old statements.
    assert await answer(officer, shared, committee) == await answer(officer, Kept(1), committee)
    assert await answer(officer, shared, committee) != seen[0]


async def test_a_malformed_cursor_is_bad_input(tg: Gateway) -> None:
    errors = await tg.errors(MY_TASKS, {"after": "bm9wZQ"}, role="community_police")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_reported_dispute_becomes_a_task_for_the_officer(tg: Gateway) -> None:
    pk = await _report(tg, "grid_worker")  # the grid worker's own grid, 15
    task = f"Dispute:{pk}:accept"
    officer = _ids(await _tasks(tg, "community_police"))
    assert officer.index(task) == 1, officer  # after the raised alert, before the registration
    assert task in _ids(await _tasks(tg, "committee_staff"))
    assert _ids(await _tasks(tg, "grid_worker")) == [task]


async def _subscribe(gw: Gateway, role: str) -> Any:
    principal = await gw.runtime.authenticator.authenticate(f"Bearer {gw.tokens[role]}")
    started = subscribe(
        gw.runtime.executor_for(principal).schema,
        parse(TASK_ASSIGNED),
        context_value=gw.runtime.context_for(principal),
    )
    stream = await started if inspect.isawaitable(started) else started
    assert not isinstance(stream, ExecutionResult), stream
    return stream


async def test_task_assigned_delivers_new_tasks_of_the_subscribers_area_only(tg: Gateway) -> None:
    officer = await _subscribe(tg, "community_police")
    worker = await _subscribe(tg, "grid_worker")
    to_officer = asyncio.ensure_future(anext(officer))
    to_worker = asyncio.ensure_future(anext(worker))
    try:
        await asyncio.sleep(0.5)  # the subscriptions start listening to the feed
        elsewhere = await _report(tg, "committee_staff", grid=16)  # the officer's area, not the worker's grid
        event = await asyncio.wait_for(to_officer, 10)
        assert not event.errors, event.errors
        task = event.data["taskAssigned"]["task"]
        assert task["id"] == f"Dispute:{elsewhere}:accept" and task["kind"] == "DISPUTE_REPORTED"
        assert task["grid"]["id"] == encode_id("Grid", 16)
        assert event.data["taskAssigned"]["eventId"].startswith("dispute:")
        assert not to_worker.done()

        mine = await _report(tg, "grid_worker")
        delivered = await asyncio.wait_for(to_worker, 10)
        assert delivered.data["taskAssigned"]["subjectId"] == encode_id("Dispute", mine)
        assert delivered.data["taskAssigned"]["task"]["id"] == f"Dispute:{mine}:accept"
    finally:
        for pending in (to_officer, to_worker):
            pending.cancel()
        await officer.aclose()
        await worker.aclose()


async def test_a_task_that_is_done_is_pushed_as_null(tg: Gateway) -> None:
    pk = await _report(tg, "grid_worker")
    accept = "mutation($input: DisputeStepInput!) { acceptDispute(input: $input) { dispute { status } } }"
    await tg.query(accept, {"input": {"disputeId": encode_id("Dispute", pk)}}, role="community_police")
    assert f"Dispute:{pk}:mediate" in _ids(await _tasks(tg, "grid_worker"))
    worker = await _subscribe(tg, "grid_worker")
    received = asyncio.ensure_future(anext(worker))
    try:
        await asyncio.sleep(0.5)
        # Escalated beyond the grid: nothing is left for the grid worker.
        step = "mutation($input: DisputeStepInput!) { escalateDispute(input: $input) { dispute { status } } }"
        await tg.query(step, {"input": {"disputeId": encode_id("Dispute", pk)}}, role="community_police")
        event = await asyncio.wait_for(received, 10)
        assert event.data["taskAssigned"] == {
            "eventId": event.data["taskAssigned"]["eventId"],
            "subjectId": encode_id("Dispute", pk),
            "task": None,
        }
        assert f"Dispute:{pk}:mediate" not in _ids(await _tasks(tg, "grid_worker"))
    finally:
        received.cancel()
        await worker.aclose()


async def test_pages_merged_in_the_database_leave_out_no_task(tg: Gateway) -> None:
    """The kinds of one database are merged and cut to a page in SQL: with more pending disputes (three
    kinds of dispute task, pages of one) than a page holds, every order walked both ways still lists
    every task, in the order a whole list has."""
    for _ in range(4):
        await _report(tg, "committee_staff", 16)
    role = "community_police"
    for order in (None, {"urgency": "ASC"}, {"createdAt": "ASC"}, {"createdAt": "DESC"}):
        whole = (await tg.query(TASKS, {"first": 100, "order": order}, role=role))["myTasks"]["nodes"]
        assert len([t for t in whole if t["id"].startswith("Dispute:")]) >= 6
        forward, backward = await walked_tasks(tg, role, order, 1)
        assert forward == whole == backward, order
