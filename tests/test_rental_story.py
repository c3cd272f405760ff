"""慧治网约房, closed: the landlord checks a guest in on a phone (through the rental platform), the
police's background check flags the guest, the officer finds the check-in in the list of its area
and on its phone, handles it — verifies, clears with a reason, or escalates — and the task ends;
the landlord checks the guest out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.data import decode_pk, encode_id
from resolvers.population import tables as t
from resolvers.seed import demo
from tests.harness import Gateway, database_url, running_gateway

CHECK_IN = "mutation($input: CheckInGuestInput!) { checkInGuest(input: $input) { checkInId } }"
CHECK_OUT = "mutation($input: CheckOutGuestInput!) { checkOutGuest(input: $input) { checkInId checkedOutAt } }"
HANDLE = """
mutation($input: HandleCheckInFlagInput!) {
  handleCheckInFlag(input: $input) {
    checkIn { id flagged flagStatus flagNote flagHandledAt flagHandledBy { name } property { name } }
  }
}
"""
LIST = """
query($filter: GuestCheckInFilter) {
  guestCheckIns(filter: $filter, first: 50) { totalCount nodes { id guestName flagStatus checkedOutAt } }
}
"""
TASKS = "{ myTasks(first: 50) { nodes { id kind } } }"
PINHU_RENTAL = encode_id("RentalProperty", 2)  # 品湖苑悦居, grid 16: police.demo's area
YOUYI_RENTAL = encode_id("RentalProperty", 1)  # 李大姨网约房, grid 7: another officer's


@pytest.fixture(scope="module")
def story_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("rental"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(story_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*story_url) as gateway:
        yield gateway


async def _post(gw: Gateway, mutation: str, given: dict[str, Any], role: str) -> Any:
    return (await gw.post(mutation, {"input": given}, role)).json()


async def _impostor(gw: Gateway, rental: str = PINHU_RENTAL) -> str:
    """Someone checks in under a resident's ID number with another name: flagged."""
    sent = {"propertyId": rental, "guestName": "王冒名", "guestIdNumber": demo.resident(17)["id_number"]}
    body = await _post(gw, CHECK_IN, sent, "rental_platform")
    assert "errors" not in body, body
    return str(body["data"]["checkInGuest"]["checkInId"])


async def _tasks(gw: Gateway, ident: str) -> list[str]:
    nodes = (await gw.query(TASKS, role="community_police"))["myTasks"]["nodes"]
    return [n["kind"] for n in nodes if n["id"].startswith(f"GuestCheckIn:{decode_pk(ident, 'GuestCheckIn')}:")]


async def _listed(gw: Gateway, **given: Any) -> list[dict[str, Any]]:
    return list((await gw.query(LIST, {"filter": given}, role="community_police"))["guestCheckIns"]["nodes"])


async def test_a_flagged_check_in_is_handled_and_the_guest_checked_out(gw: Gateway) -> None:
    ident = await _impostor(gw)
    today = datetime.now(UTC).date().isoformat()
    area = {"gridId": encode_id("Grid", 16)}
    flagged = await _listed(gw, area=area, flagStatus=["FLAGGED"], checkedIn={"since": today})
    assert [n["id"] for n in flagged] == [ident] and flagged[0]["guestName"] == "王冒名"
    assert await _tasks(gw, ident) == ["CHECK_IN_FLAGGED"]

    # Clearing needs a reason; escalating first, then verifying in person, ends it.
    bare = await _post(gw, HANDLE, {"checkInId": ident, "decision": "CLEAR"}, "community_police")
    assert bare["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "input.reason"}
    reason = "身份证号与姓名不符,已通知派出所上门核查"
    escalated = await _post(
        gw, HANDLE, {"checkInId": ident, "decision": "ESCALATE", "reason": reason}, "community_police"
    )
    record = escalated["data"]["handleCheckInFlag"]["checkIn"]
    assert (record["flagStatus"], record["flagNote"], record["flagHandledBy"]) == (
        "ESCALATED",
        reason,
        {"name": "陈立伟"},
    )
    assert record["property"] == {"name": "品湖苑悦居"} and record["flagged"] is True
    # The task ends when the flag is handled.
    assert await _tasks(gw, ident) == []
    verified = await _post(gw, HANDLE, {"checkInId": ident, "decision": "VERIFY"}, "community_police")
    assert verified["data"]["handleCheckInFlag"]["checkIn"]["flagStatus"] == "VERIFIED"
    done = await _post(gw, HANDLE, {"checkInId": ident, "decision": "VERIFY"}, "community_police")
    assert done["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await _listed(gw, area=area, flagStatus=["FLAGGED"], checkedIn={"since": today}) == []

    # The landlord checks the guest out; the platform is told only the time.
    out = await _post(gw, CHECK_OUT, {"checkInId": ident}, "rental_platform")
    assert set(out["data"]["checkOutGuest"]) == {"checkInId", "checkedOutAt"}
    again = await _post(gw, CHECK_OUT, {"checkInId": ident}, "rental_platform")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    [gone] = [n for n in await _listed(gw, area=area, staying=False) if n["id"] == ident]
    assert gone["checkedOutAt"] is not None
    assert ident not in [n["id"] for n in await _listed(gw, area=area, staying=True)]


async def test_a_flag_is_cleared_with_its_reason(gw: Gateway) -> None:
    ident = await _impostor(gw)
    reason = "经电话核实系住客本人,登记时姓名录入错误"
    body = await _post(gw, HANDLE, {"checkInId": ident, "decision": "CLEAR", "reason": reason}, "community_police")
    assert body["data"]["handleCheckInFlag"]["checkIn"]["flagStatus"] == "CLEARED"
    assert await _tasks(gw, ident) == []


async def test_other_areas_and_other_platforms_read_as_missing(gw: Gateway) -> None:
    elsewhere = await _impostor(gw, YOUYI_RENTAL)
    body = await _post(gw, HANDLE, {"checkInId": elsewhere, "decision": "VERIFY"}, "community_police")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert elsewhere not in [n["id"] for n in await _listed(gw)]
    async with gw.runtime.databases.session("population") as session, session.begin():
        others = {"landlord_id": 9, "grid_id": 16, "address": "品湖苑12号楼2门101", "rooms": 1}
        session.add(t.RentalProperty(id=903, name="别家平台的房", platform_id="other.platform", **others))
        await session.flush()
        stay = t.GuestCheckIn(
            property_id=903, grid_id=16, guest_name="路人", guest_id_number=demo.resident(17)["id_number"],
            checked_in_at=datetime.now(UTC) - timedelta(hours=1), verification="pending", flagged=False,
            flag_status="none",
        )  # fmt: skip
        session.add(stay)
        await session.flush()
        foreign = encode_id("GuestCheckIn", stay.id)
    answers = []
    for ident in (foreign, encode_id("GuestCheckIn", 999_999)):
        errors = (await _post(gw, CHECK_OUT, {"checkInId": ident}, "rental_platform"))["errors"]
        answers.append((errors[0]["extensions"]["code"], errors[0]["message"].replace(ident, "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == "NOT_FOUND"
