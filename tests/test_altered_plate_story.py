"""The altered-plate story (自作聪明变造号牌 交警布控抓个正着), walked through the API: the camera on
天津大道 reads 津B06237, a plate no vehicle holds; a "0" stuck over the "E" of 津BE6237, a red
heavy semi-trailer tractor. The alert is ``ALTERED`` and names the real vehicle, at the capture's
time; dispatched to an officer elsewhere, it is re-dispatched to the area's officer, who stops the
lorry; the interception prompts the violation, which names the vehicle and the driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.data import decode_pk, encode_id
from resolvers.traffic.plates import ALTERNATIVES, variants
from tests.harness import Gateway, database_url, running_gateway

CAPTURE = "mutation($input: CaptureInput!) { recordCapture(input: $input) { captureId } }"
ALERTS = """
query($plate: String!) {
  plateAlerts(filter: {plate: $plate}) {
    nodes { id kind status raisedAt detail capture { plate capturedAt } vehicle { plate vehicleType colour } }
  }
}
"""
STEP = """{ plateAlert { id status dispatchedTo { name }
  violations { fineYuan points detentionDays driverName vehicle { plate } driver { name } } } }"""
DISPATCH = f"mutation($input: DispatchInput!) {{ dispatchPlateAlert(input: $input) {STEP} }}"
INTERCEPT = f"mutation($input: InterceptInput!) {{ interceptPlateAlert(input: $input) {STEP} }}"
VIOLATION = f"mutation($input: ViolationInput!) {{ recordViolation(input: $input) {STEP} }}"
TASKS = "{ myTasks(first: 50) { nodes { id kind } } }"

CAMERA = "JN-TJDD-K21.8"  # 天津大道下行21.8公里处, grid 18: police.demo's area
HERE, ELSEWHERE = encode_id("Staff", 2), encode_id("Staff", 9)  # 陈立伟 (police.demo); 王振 (police.lihu)
DRIVER = encode_id("Resident", 16)  # 张国强, the lorry's owner, who drove it


@pytest.fixture(scope="module")
def story_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("altered"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(story_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*story_url) as gateway:
        yield gateway


async def _record(gw: Gateway, plate: str, kind: str, colour: str, at: datetime) -> None:
    given = {"cameraCode": CAMERA, "plate": plate, "observedType": kind, "observedColour": colour}
    body = (await gw.post(CAPTURE, {"input": given | {"capturedAt": at.isoformat()}}, role="traffic_camera")).json()
    assert "errors" not in body, body


async def _newest(gw: Gateway, plate: str) -> dict[str, Any]:
    nodes = (await gw.query(ALERTS, {"plate": plate}, role="community_police"))["plateAlerts"]["nodes"]
    return dict(max(nodes, key=lambda node: decode_pk(node["id"], "PlateAlert")))


async def _step(gw: Gateway, mutation: str, given: dict[str, Any], role: str = "community_police") -> Any:
    body = (await gw.post(mutation, {"input": given}, role)).json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))["plateAlert"]


async def _tasks(gw: Gateway, subject: str) -> list[str]:
    nodes = (await gw.query(TASKS, role="community_police"))["myTasks"]["nodes"]
    return [n["kind"] for n in nodes if n["id"].startswith(f"PlateAlert:{decode_pk(subject, 'PlateAlert')}:")]


async def test_the_altered_plate_walks_from_capture_to_penalty(gw: Gateway) -> None:
    seen = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    await _record(gw, "津B06237", "重型半挂牵引车", "红色", seen)

    alert = await _newest(gw, "津B06237")
    assert (alert["kind"], alert["status"]) == ("ALTERED", "RAISED")
    assert alert["vehicle"] == {"plate": "津BE6237", "vehicleType": "重型半挂牵引车", "colour": "红色"}
    assert "津BE6237" in alert["detail"] and "“E”为“0”" in alert["detail"]
    # The alert's time is the moment the camera saw the lorry, not when the upload arrived.
    assert datetime.fromisoformat(alert["raisedAt"]) == seen and alert["raisedAt"].endswith("+08:00")
    assert await _tasks(gw, alert["id"]) == ["ALERT_RAISED"]

    # An officer of another police grid could not see the alert: refused, the alert still waits here.
    body = (
        await gw.post(DISPATCH, {"input": {"alertId": alert["id"], "officerId": ELSEWHERE}}, "community_police")
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
    assert await _tasks(gw, alert["id"]) == ["ALERT_RAISED"]
    again = await _step(gw, DISPATCH, {"alertId": alert["id"], "officerId": HERE})
    assert (again["status"], again["dispatchedTo"]) == ("DISPATCHED", {"name": "陈立伟"})
    assert await _tasks(gw, alert["id"]) == ["ALERT_DISPATCHED"]

    stopped = {
        "alertId": alert["id"],
        "location": "天津大道下行21.8公里处",
        "interceptedAt": datetime.now(UTC).isoformat(),
    }
    assert (await _step(gw, INTERCEPT, stopped))["status"] == "INTERCEPTED"
    # The interception prompts the violation.
    assert await _tasks(gw, alert["id"]) == ["ALERT_INTERCEPTED"]

    penalty = {
        "alertId": alert["id"],
        "description": "使用变造的机动车号牌(用写有数字“0”的塑料牌遮挡号牌字母“E”)",
        "fineYuan": "5000",
        "points": 12,
        "detentionDays": 15,
        "driverId": DRIVER,
    }
    closed = await _step(gw, VIOLATION, penalty)
    assert closed["status"] == "CLOSED"
    assert closed["violations"] == [
        {
            "fineYuan": "5000.00",
            "points": 12,
            "detentionDays": 15,
            "driverName": None,
            "vehicle": {"plate": "津BE6237"},
            "driver": {"name": "张国强"},
        }
    ]
    assert await _tasks(gw, alert["id"]) == []


async def test_re_dispatching_to_the_same_officer_is_a_conflict(gw: Gateway) -> None:
    await _record(gw, "津B06237", "重型半挂牵引车", "红色", datetime.now(UTC) - timedelta(minutes=5))
    alert = await _newest(gw, "津B06237")
    await _step(gw, DISPATCH, {"alertId": alert["id"], "officerId": HERE})
    body = (await gw.post(DISPATCH, {"input": {"alertId": alert["id"], "officerId": HERE}}, "community_police")).json()
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_a_violation_names_its_driver(gw: Gateway) -> None:
    await _record(gw, "津B06237", "重型半挂牵引车", "红色", datetime.now(UTC) - timedelta(minutes=4))
    alert = await _newest(gw, "津B06237")
    await _step(gw, DISPATCH, {"alertId": alert["id"], "officerId": HERE})
    stopped = {"alertId": alert["id"], "location": "天津大道", "interceptedAt": datetime.now(UTC).isoformat()}
    await _step(gw, INTERCEPT, stopped)
    penalty = {"alertId": alert["id"], "description": "x", "fineYuan": "5000", "points": 12, "detentionDays": 15}
    nobody = (await gw.post(VIOLATION, {"input": penalty}, "community_police")).json()
    assert nobody["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "input.driverId"}
    # A resident the officer cannot see (鼓楼, resident 31) reads as missing: nothing is written.
    hidden = await gw.post(VIOLATION, {"input": penalty | {"driverId": encode_id("Resident", 31)}}, "community_police")
    assert hidden.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    named = await _step(gw, VIOLATION, penalty | {"driverName": "李某"})
    assert named["violations"][0]["driverName"] == "李某" and named["violations"][0]["driver"] is None


async def test_a_plate_like_a_registered_one_but_not_its_look_stays_unregistered(gw: Gateway) -> None:
    # The same confusable plate on a white car is not the red lorry.
    await _record(gw, "津B06237", "小型轿车", "白色", datetime.now(UTC) - timedelta(minutes=3))
    alert = await _newest(gw, "津B06237")
    assert (alert["kind"], alert["vehicle"]) == ("UNREGISTERED", None)


def test_the_confusion_table_covers_the_article() -> None:
    assert "E" in ALTERNATIVES["0"] and "0" in ALTERNATIVES["E"]
    found = dict((plate, n) for n, plate in variants("津B06237"))
    assert found["津BE6237"] == 1 and found["津BD6237"] == 1
    # The province character is never changed; the plate itself is not a variant of itself.
    assert all(plate.startswith("津") for plate in found) and "津B06237" not in found
