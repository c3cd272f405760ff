"""A principal bound to an area whose area is missing reads nothing, rather than the whole city.

The directory gives a staff member with no grid, community or police grid (and a partner agency with
no street) the whole city as its area: that is how the city's analysts and auditors are kept. A grid
worker whose grid was cleared, or a judicial office whose street was, had therefore read every row
of the city through rules written for its own area. Rules bound to an area (``rows: area`` or
``street``, ``own_area_only`` fields, ``check: area`` writes) now grant a principal whose area is the
city nothing; city-wide principals are granted with ``rows: city``.

What is checked is derived from the policies and each principal's own schema: for every demo principal
whose policy has a rule bound to an area, every root list of its schema whose rows such a rule limits
shows rows while its area is set, and none once it is cleared; lists its policy opens to the city
(``rows: city``) still show theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from gateway.auth import PrincipalRecord
from gateway.policy import Policy
from resolvers.grid.tables import Agency, Staff
from tests.harness import DEMO, Gateway, database_url, report_input, running_gateway

BOUND = ("area", "street")
CONNECTION = "kind name fields { name type { kind name ofType { kind name ofType { kind name ofType { name } } } } }"
ROOTS = f"{{ __schema {{ queryType {{ fields {{ name args {{ type {{ kind }} }} type {{ {CONNECTION} ofType {{ {CONNECTION} }} }} }} }} }} }}"


@pytest.fixture(scope="module")
def no_area_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("no_area"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def na(no_area_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests clear principals' areas in the directory."""
    async with running_gateway(*no_area_url, residents=60) as gateway:
        # Each request looks its principal up afresh, so that a cleared area is seen at once.
        gateway.runtime.authenticator.cache_seconds = 0
        yield gateway


async def _record(gw: Gateway, role: str) -> PrincipalRecord:
    record = await gw.runtime.directory.find(DEMO[role])
    assert record is not None
    return record


def _policy(gw: Gateway, record: PrincipalRecord) -> Policy:
    policies = gw.runtime.policies
    found = policies.for_scopes(record.scopes) if record.kind == "partner" else policies.for_role(record.role)
    assert found is not None
    return found


def _area_bound(policy: Policy) -> bool:
    return any(rule.rows in BOUND or rule.own_area_only for rule in policy.types.values())


def _node_type(field: dict[str, Any]) -> str | None:
    """The type of the rows a root list returns (``nodes: [T!]!``), or None for any other root field."""
    connection = field["type"]
    if connection["kind"] == "NON_NULL":
        connection = connection["ofType"]
    if not connection.get("fields"):
        return None
    for sub in connection["fields"]:
        if sub["name"] == "nodes":
            kind = sub["type"]
            while kind.get("ofType") is not None:
                kind = kind["ofType"]
            return str(kind["name"])
    return None


async def _lists(gw: Gateway, role: str) -> dict[str, str]:
    """Root list field → the type of its rows, for the root lists of ``role``'s own schema that need no argument."""
    schema = (await gw.query(ROOTS, role=role))["__schema"]["queryType"]["fields"]
    found = {}
    for field in schema:
        if any(arg["type"]["kind"] == "NON_NULL" for arg in field["args"]):
            continue
        node = _node_type(field)
        if node is not None:
            found[field["name"]] = node
    return found


async def _shown(gw: Gateway, role: str, field: str) -> int:
    data = await gw.query(f"{{ {field}(first: 5) {{ nodes {{ __typename }} }} }}", role=role)
    return len(data[field]["nodes"])


async def _clear_area(gw: Gateway, record: PrincipalRecord) -> None:
    async with gw.runtime.databases.write_session("grid") as session, session.begin():
        if record.kind == "partner":
            await session.execute(update(Agency).where(Agency.principal_id == record.id).values(street_id=None))
        else:
            cleared = {"grid_id": None, "community_id": None, "police_grid_id": None}
            await session.execute(update(Staff).where(Staff.principal_id == record.id).values(**cleared))


async def test_a_principal_whose_area_is_missing_reads_nothing_its_area_bound_rules_limit(na: Gateway) -> None:
    bound = {}
    for role in na.tokens:
        record = await _record(na, role)
        policy = _policy(na, record)
        if _area_bound(policy) and record.area.kind != "city":
            bound[role] = (record, policy)
    # The policies bind the grid worker, the committee, the police and the judicial office to their areas.
    assert {"grid_worker", "committee_staff", "community_police", "judicial_office"} <= set(bound), sorted(bound)
    for role, (record, policy) in bound.items():
        lists = await _lists(na, role)
        limited = {f for f, node in lists.items() if (rule := policy.rule(node)) is not None and rule.rows in BOUND}
        open_to_city = {
            f for f, node in lists.items() if (rule := policy.rule(node)) is not None and rule.rows == "city"
        }
        before = {f: await _shown(na, role, f) for f in limited | open_to_city}
        # Each limited list shows rows of its own area to begin with (else the check below proves nothing).
        assert limited and any(before[f] for f in limited), (role, before)
        await _clear_area(na, record)
        assert (await _record(na, role)).area.kind == "city"
        after = {f: await _shown(na, role, f) for f in limited | open_to_city}
        assert all(after[f] == 0 for f in limited), (role, after)
        assert all(after[f] == before[f] for f in open_to_city), (role, before, after)
    # The city's analyst, whose policy opens the city, reads it as before.
    assert await _shown(na, "city_analyst", "residents") == 5


async def test_a_principal_whose_area_is_missing_sees_no_own_area_value_and_writes_nowhere(na: Gateway) -> None:
    # Run after the clearing above (module order): the committee's area is gone.
    record = await _record(na, "committee_staff")
    if record.area.kind != "city":
        await _clear_area(na, record)
    policy = _policy(na, record)
    own_area_only = {(t, f) for t, rule in policy.types.items() for f in rule.own_area_only}
    assert ("DisputeParty", "phone") in own_area_only, own_area_only
    # Its disputes are rows of its street (rows: street): none now, so no party's phone either.
    data = await na.query("{ disputes(first: 5) { nodes { parties { phone } } } }", role="committee_staff")
    assert data["disputes"]["nodes"] == []
    # A write its grant checks against its area is refused wherever it points.
    grid = await na.query("{ grids(first: 1) { nodes { id } } }", role="committee_staff")
    target = grid["grids"]["nodes"][0]["id"]
    errors = await na.errors(
        "mutation($i: ReportDisputeInput!) { reportDispute(input: $i) { dispute { id } } }",
        {"i": report_input(target, "无区域")},
        role="committee_staff",
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN", errors
