"""The article's disputes walked through the API, each step prompted as a task to the role the
article gives it:

- 楼上漏水楼下愁: 张先生's burst pipe floods 刘先生's flat; the two families go to the 八里台
  judicial office directly, which registers and accepts the dispute, mediates it separately and
  face to face with the community's people's mediator, and records the 9,000-yuan agreement; the
  committee follows it up and closes it.
- 噪音: 李大爷's noise complaint, reported by the grid worker, accepted by the officer, mediated by
  the officer with the grid worker (who records the session), escalated to the judicial office,
  whose task list then prompts it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.data import decode_pk, encode_id
from tests.harness import Gateway, database_url, running_gateway

DISPUTE = "{ dispute { id status version reporter { name } parties { name phone } sessions { mode } agreement { amount viaJudicialOffice } } }"
REPORT = f"mutation($input: ReportDisputeInput!) {{ reportDispute(input: $input) {DISPUTE} }}"
ACCEPT = f"mutation($input: DisputeStepInput!) {{ acceptDispute(input: $input) {DISPUTE} }}"
SESSION = f"mutation($input: MediationInput!) {{ recordMediationSession(input: $input) {DISPUTE} }}"
AGREE = f"mutation($input: AgreementInput!) {{ reachAgreement(input: $input) {DISPUTE} }}"
ESCALATE = f"mutation($input: DisputeStepInput!) {{ escalateDispute(input: $input) {DISPUTE} }}"
FOLLOW_UP = f"mutation($input: DisputeStepInput!) {{ followUpDispute(input: $input) {DISPUTE} }}"
CLOSE = f"mutation($input: DisputeStepInput!) {{ closeDispute(input: $input) {DISPUTE} }}"
TASKS = "{ myTasks(first: 50) { nodes { id kind title } } }"

PINHU_GRID = encode_id("Grid", 15)  # 品湖苑, 八里台镇 (judicial.demo's street; gridworker.demo's grid)
GULOU_GRID = encode_id("Grid", 10)  # 鼓楼, another street
JUDICIAL, PEOPLES = encode_id("Mediator", 5), encode_id("Mediator", 6)  # 孟凡超 (司法所); 赵淑芬 (人民调解员)
OFFICER, GRID_WORKER = encode_id("Mediator", 7), encode_id("Mediator", 8)  # 陈立伟; 刘婷


@pytest.fixture(scope="module")
def story_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("disputes"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(story_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*story_url) as gateway:
        yield gateway


async def _do(gw: Gateway, mutation: str, given: dict[str, Any], role: str) -> dict[str, Any]:
    body = (await gw.post(mutation, {"input": given}, role)).json()
    assert "errors" not in body, body
    return dict(next(iter(body["data"].values()))["dispute"])


async def _tasks(gw: Gateway, role: str, dispute: str) -> list[str]:
    nodes = (await gw.query(TASKS, role=role))["myTasks"]["nodes"]
    return [n["kind"] for n in nodes if n["id"].startswith(f"Dispute:{decode_pk(dispute, 'Dispute')}:")]


def _session(dispute: str, mode: str, mediators: list[str], notes: str, hours: int) -> dict[str, Any]:
    held = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    return {
        "disputeId": dispute,
        "heldAt": held,
        "mode": mode,
        "location": "品湖苑社区调解室",
        "notes": notes,
        "mediatorIds": mediators,
    }


async def test_the_burst_pipe_goes_to_the_judicial_office_directly(gw: Gateway) -> None:
    report = {
        "title": "楼上水管爆裂漏水致楼下受损",
        "category": "PROPERTY_DAMAGE",
        "description": "张先生家水管爆裂,水渗到楼下刘先生家,天花板、墙壁受损;双方就赔偿数额无法达成一致。",
        "gridId": PINHU_GRID,
        "parties": [
            {"role": "RESPONDENT", "name": "张先生", "phone": "13920001111"},
            {"role": "COMPLAINANT", "name": "刘先生", "phone": "13920002222"},
        ],
    }
    reported = await _do(gw, REPORT, report, "judicial_office")
    case = reported["id"]
    assert (reported["status"], reported["reporter"]) == ("REPORTED", None)
    assert [p["name"] for p in reported["parties"]] == ["张先生", "刘先生"]
    assert await _tasks(gw, "judicial_office", case) == ["DISPUTE_REPORTED"]

    accepted = await _do(gw, ACCEPT, {"disputeId": case}, "judicial_office")
    assert accepted["status"] == "ACCEPTED"
    assert await _tasks(gw, "judicial_office", case) == ["DISPUTE_TO_MEDIATE"]
    assert await _tasks(gw, "committee_staff", case) == ["DISPUTE_TO_MEDIATE"]

    await _do(gw, SESSION, _session(case, "SEPARATE", [JUDICIAL, PEOPLES], "背对背:分别劝导双方", 3), "judicial_office")
    mediating = await _do(
        gw, SESSION, _session(case, "FACE_TO_FACE", [JUDICIAL, PEOPLES], "面对面协商赔偿数额", 1), "judicial_office"
    )
    assert (mediating["status"], [s["mode"] for s in mediating["sessions"]]) == (
        "MEDIATING",
        ["SEPARATE", "FACE_TO_FACE"],
    )
    assert await _tasks(gw, "judicial_office", case) == ["DISPUTE_TO_MEDIATE"]

    agreement = {
        "disputeId": case,
        "terms": "张先生一次性全额赔偿刘先生房屋受损等相关损失人民币9000元,当场付清。",
        "amount": "9000",
        "signedOn": datetime.now(UTC).date().isoformat(),
        "viaJudicialOffice": True,
    }
    agreed = await _do(gw, AGREE, agreement, "judicial_office")
    assert (agreed["status"], agreed["agreement"]) == ("AGREED", {"amount": "9000.00", "viaJudicialOffice": True})
    assert await _tasks(gw, "judicial_office", case) == []
    # The committee follows it up (回访) and closes it.
    assert await _tasks(gw, "committee_staff", case) == ["DISPUTE_FOLLOW_UP"]
    await _do(gw, FOLLOW_UP, {"disputeId": case, "note": "回访:双方邻里关系和睦,赔偿已到位"}, "committee_staff")
    closed = await _do(gw, CLOSE, {"disputeId": case}, "committee_staff")
    assert closed["status"] == "CLOSED"
    for role in ("judicial_office", "committee_staff", "community_police", "grid_worker"):
        assert await _tasks(gw, role, case) == [], role


async def test_the_noise_complaint_is_mediated_jointly_then_escalated(gw: Gateway) -> None:
    report = {
        "title": "楼上噪音扰民",
        "category": "NOISE",
        "description": "李大爷反映楼上邻居夜间噪音。",
        "parties": [{"role": "COMPLAINANT", "name": "李大爷"}, {"role": "RESPONDENT", "name": "楼上邻居"}],
    }
    reported = await _do(gw, REPORT, report, "grid_worker")
    case = reported["id"]
    for role in ("community_police", "committee_staff", "grid_worker", "judicial_office"):
        assert await _tasks(gw, role, case) == ["DISPUTE_REPORTED"], role

    await _do(gw, ACCEPT, {"disputeId": case}, "community_police")
    assert await _tasks(gw, "grid_worker", case) == ["DISPUTE_TO_MEDIATE"]
    assert await _tasks(gw, "community_police", case) == ["DISPUTE_TO_MEDIATE"]
    # The grid worker records the session held with the officer (警格网格联调).
    held = await _do(gw, SESSION, _session(case, "FACE_TO_FACE", [OFFICER, GRID_WORKER], "上门调解", 2), "grid_worker")
    assert held["status"] == "MEDIATING"

    escalated = await _do(gw, ESCALATE, {"disputeId": case, "note": "双方分歧较大,移交司法所"}, "community_police")
    assert escalated["status"] == "ESCALATED"
    assert await _tasks(gw, "judicial_office", case) == ["DISPUTE_ESCALATED"]
    assert await _tasks(gw, "community_police", case) == ["DISPUTE_FOLLOW_UP"]
    assert await _tasks(gw, "grid_worker", case) == []
    # The judicial office mediates it again: its escalation task ends, a mediation one begins.
    await _do(gw, SESSION, _session(case, "SEPARATE", [JUDICIAL], "司法所背对背调解", 1), "judicial_office")
    assert await _tasks(gw, "judicial_office", case) == ["DISPUTE_TO_MEDIATE"]


async def test_the_judicial_office_writes_only_in_its_street(gw: Gateway) -> None:
    report = {
        "title": "x",
        "category": "OTHER",
        "description": "x",
        "gridId": GULOU_GRID,
        "parties": [{"role": "COMPLAINANT", "name": "某人"}],
    }
    body = (await gw.post(REPORT, {"input": report}, "judicial_office")).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # A resident it cannot read cannot be named as a party.
    linked = report | {
        "gridId": PINHU_GRID,
        "parties": [{"role": "COMPLAINANT", "name": "张", "residentId": encode_id("Resident", 1)}],
    }
    body = (await gw.post(REPORT, {"input": linked}, "judicial_office")).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
