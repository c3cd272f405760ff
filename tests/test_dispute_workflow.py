"""A dispute walks its whole life through mutations; illegal steps, stale versions, foreign areas,
bad input and replays are refused, and the database holds exactly what it should afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from resolvers.dispute import tables as t
from tests.harness import Gateway, database_url, running_gateway

REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { clientMutationId dispute { id status version grid { id } parties { name } } }
}
"""
STEP = """
mutation Step($input: DisputeStepInput!) { %s(input: $input) { dispute { id status version } } }
"""
SESSION = """
mutation Session($input: MediationInput!) { recordMediationSession(input: $input) { dispute { status version } } }
"""
AGREE = """
mutation Agree($input: AgreementInput!) { reachAgreement(input: $input) { dispute { status version agreement { amount } } } }
"""


@pytest.fixture(scope="module")
def workflow_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("dispute-workflow"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def wf(workflow_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*workflow_url) as gateway:
        yield gateway


async def _own_grid(gw: Gateway, role: str) -> str:
    data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role=role)
    return str(data["residents"]["nodes"][0]["grid"]["id"])


async def _count(gw: Gateway) -> int:
    async with gw.runtime.databases.session("dispute") as session:
        return int((await session.execute(select(func.count(t.Dispute.id)))).scalar_one())


def _report_input(grid: str | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "楼道堆物 / clutter in the stairwell",
        "category": "NEIGHBOUR",
        "description": "三楼住户在楼道堆放杂物,邻居投诉 / third-floor clutter",
        "parties": [{"role": "COMPLAINANT", "name": "王建国", "phone": "13812345678"}],
    }
    if grid is not None:
        base["gridId"] = grid
    base.update(extra)
    return base


async def _step(gw: Gateway, role: str, mutation: str, variables: dict[str, Any]) -> Any:
    response = await gw.post(STEP % mutation, {"input": variables}, role=role)
    return response.json()


async def test_a_dispute_walks_its_whole_life(wf: Gateway) -> None:
    grid = await _own_grid(wf, "committee_staff")
    reported = (await wf.query(REPORT, {"input": _report_input(grid)}, role="committee_staff"))["reportDispute"]
    dispute = reported["dispute"]
    assert dispute["status"] == "REPORTED" and dispute["version"] == 1 and dispute["grid"]["id"] == grid
    ident = dispute["id"]
    body = await _step(wf, "committee_staff", "acceptDispute", {"disputeId": ident, "expectedVersion": 1})
    assert body["data"]["acceptDispute"]["dispute"]["status"] == "ACCEPTED"
    mediators = await wf.query("{ mediators(first: 1) { nodes { id } } }", role="committee_staff")
    session = {
        "disputeId": ident,
        "expectedVersion": 2,
        "heldAt": "2026-11-28T09:00:00+08:00",
        "mode": "FACE_TO_FACE",
        "location": "社区调解室 / the community mediation room",
        "notes": "双方同意清理 / both agree to clear it",
        "mediatorIds": [mediators["mediators"]["nodes"][0]["id"]],
    }
    assert (await wf.query(SESSION, {"input": session}, role="committee_staff"))["recordMediationSession"]["dispute"][
        "status"
    ] == "MEDIATING"
    agreement = {
        "disputeId": ident,
        "expectedVersion": 3,
        "terms": "三日内清理 / cleared within three days",
        "amount": "0",
        "signedOn": "2026-11-28",
    }
    agreed = (await wf.query(AGREE, {"input": agreement}, role="committee_staff"))["reachAgreement"]["dispute"]
    assert agreed["status"] == "AGREED" and agreed["version"] == 4
    follow = await _step(
        wf, "committee_staff", "followUpDispute", {"disputeId": ident, "expectedVersion": 4, "note": "已清理 / cleared"}
    )
    assert follow["data"]["followUpDispute"]["dispute"]["status"] == "FOLLOWED_UP"
    closed = await _step(wf, "committee_staff", "closeDispute", {"disputeId": ident, "expectedVersion": 5})
    assert closed["data"]["closeDispute"]["dispute"] == {"id": ident, "status": "CLOSED", "version": 6}
    again = await _step(wf, "committee_staff", "closeDispute", {"disputeId": ident})
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "final state" in again["errors"][0]["message"]


async def test_illegal_transition_and_stale_version_are_conflicts(wf: Gateway) -> None:
    grid = await _own_grid(wf, "committee_staff")
    ident = (await wf.query(REPORT, {"input": _report_input(grid)}, role="committee_staff"))["reportDispute"][
        "dispute"
    ]["id"]
    illegal = await _step(wf, "committee_staff", "closeDispute", {"disputeId": ident})
    error = illegal["errors"][0]
    assert error["extensions"]["code"] == "CONFLICT" and error["extensions"]["allowed"] == ["accepted"]
    stale = await _step(wf, "committee_staff", "acceptDispute", {"disputeId": ident, "expectedVersion": 7})
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert stale["errors"][0]["extensions"]["currentVersion"] == 1
    unchanged = await wf.query("query($id: ID!) { dispute(id: $id) { status version } }", {"id": ident})
    assert unchanged["dispute"] == {"status": "REPORTED", "version": 1}


async def _grids_of(gw: Gateway, role: str) -> set[str]:
    data = await gw.query("{ residents(first: 100) { nodes { grid { id } } } }", role=role)
    return {n["grid"]["id"] for n in data["residents"]["nodes"]}


async def test_writes_outside_the_area_are_refused_and_change_nothing(wf: Gateway) -> None:
    committee = await _grids_of(wf, "committee_staff")
    foreign_grid = next(iter(await _grids_of(wf, "community_police") - committee))
    report = await wf.query(REPORT, {"input": _report_input(foreign_grid)}, role="community_police")
    foreign = report["reportDispute"]["dispute"]["id"]
    body = await _step(wf, "committee_staff", "acceptDispute", {"disputeId": foreign})
    # FORBIDDEN where the committee may read the row (its street), NOT_FOUND where it may not.
    assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "NOT_FOUND"}
    after = await wf.query("query($id: ID!) { dispute(id: $id) { status } }", {"id": foreign})
    assert after["dispute"]["status"] == "REPORTED"
    before = await _count(wf)
    refused = await wf.post(REPORT, {"input": _report_input(foreign_grid)}, role="committee_staff")
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await _count(wf) == before


async def test_a_grid_worker_reports_into_its_own_grid_whatever_it_sends(wf: Gateway) -> None:
    own = await _own_grid(wf, "grid_worker")
    other = next(
        g["id"]
        for g in (await wf.query("{ grids(first: 100) { nodes { id } } }", role="grid_worker"))["grids"]["nodes"]
        if g["id"] != own
    )
    data = await wf.query(REPORT, {"input": _report_input(other)}, role="grid_worker")
    assert data["reportDispute"]["dispute"]["grid"]["id"] == own
    errors = await wf.errors(STEP % "acceptDispute", {"input": {"disputeId": "x"}}, role="grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", "a grid worker cannot accept"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "input.title"),
        ({"parties": []}, "input.parties"),
        ({"parties": [{"role": "COMPLAINANT", "name": "王", "phone": "12345"}]}, "input.parties[0].phone"),
        ({"parties": [{"role": "COMPLAINANT", "name": ""}]}, "input.parties[0].name"),
        ({"gridId": "bm90LWEtZ3JpZA"}, "input.gridId"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(wf: Gateway, change: dict[str, Any], field: str) -> None:
    grid = await _own_grid(wf, "committee_staff")
    before = await _count(wf)
    response = await wf.post(REPORT, {"input": _report_input(grid, **change)}, role="committee_staff")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and field in error["message"], error
    assert await _count(wf) == before


async def test_the_same_request_twice_with_one_key_writes_once(wf: Gateway) -> None:
    grid = await _own_grid(wf, "committee_staff")
    before = await _count(wf)
    variables = {"input": _report_input(grid)}
    first = await wf.post(REPORT, variables, role="committee_staff", headers={"Idempotency-Key": "phone-retry-1"})
    second = await wf.post(REPORT, variables, role="committee_staff", headers={"Idempotency-Key": "phone-retry-1"})
    assert first.json() == second.json() and second.headers.get("idempotent-replayed") == "true"
    assert await _count(wf) == before + 1
    changed = {"input": _report_input(grid, title="另一件事 / something else")}
    third = await wf.post(REPORT, changed, role="committee_staff", headers={"Idempotency-Key": "phone-retry-1"})
    assert third.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await _count(wf) == before + 1
    keyed = {"input": _report_input(grid, clientMutationId="form-42")}
    one = await wf.post(REPORT, keyed, role="committee_staff")
    two = await wf.post(REPORT, keyed, role="committee_staff")
    assert one.json() == two.json() and one.json()["data"]["reportDispute"]["clientMutationId"] == "form-42"
    assert await _count(wf) == before + 2


async def test_the_judicial_office_mediates_in_its_street(wf: Gateway) -> None:
    grid = await _own_grid(wf, "committee_staff")
    ident = (await wf.query(REPORT, {"input": _report_input(grid)}, role="committee_staff"))["reportDispute"][
        "dispute"
    ]["id"]
    await _step(wf, "committee_staff", "acceptDispute", {"disputeId": ident})
    escalated = await _step(wf, "committee_staff", "escalateDispute", {"disputeId": ident, "note": "移交司法所"})
    assert escalated["data"]["escalateDispute"]["dispute"]["status"] == "ESCALATED"
    mediators = await wf.query("{ mediators(first: 100) { nodes { id kind } } }", role="judicial_office")
    judicial = next(m["id"] for m in mediators["mediators"]["nodes"] if m["kind"] == "judicial")
    session = {
        "disputeId": ident,
        "heldAt": "2026-11-28T14:00:00+08:00",
        "mode": "SEPARATE",
        "location": "八里台司法所 / judicial office",
        "notes": "背对背调解 / parties seen apart",
        "mediatorIds": [judicial],
    }
    done = await wf.query(SESSION, {"input": session}, role="judicial_office")
    assert done["recordMediationSession"]["dispute"]["status"] == "MEDIATING"
    # It may accept disputes, but not one already being mediated.
    late = await wf.errors(STEP % "acceptDispute", {"input": {"disputeId": ident}}, role="judicial_office")
    assert late[0]["extensions"]["code"] == "CONFLICT"
    absent = await wf.errors(STEP % "escalateDispute", {"input": {"disputeId": ident}}, role="judicial_office")
    assert absent[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_every_dispute_code_has_the_one_format(wf: Gateway) -> None:
    """Seeded and reported disputes alike are numbered by ``resolvers.dispute.codes`` (MD + year + ID)."""
    from resolvers.dispute.codes import PATTERN, dispute_code

    grid = await _own_grid(wf, "committee_staff")
    reported = (await wf.query(REPORT, {"input": _report_input(grid)}, role="committee_staff"))["reportDispute"]
    async with wf.runtime.databases.session("dispute") as session:
        rows = (await session.execute(select(t.Dispute.id, t.Dispute.code, t.Dispute.reported_at))).all()
    assert len(rows) > 5 and reported["dispute"]["id"]
    for pk, code, reported_at in rows:
        assert PATTERN.fullmatch(code) and code == dispute_code(reported_at.year, pk), code
