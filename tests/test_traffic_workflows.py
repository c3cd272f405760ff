"""Traffic workflows: a camera capture raises a plate alert that the area's officer dispatches,
intercepts and penalises; the camera learns nothing; subscribers see each step."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.audit import AUDIT_DOMAIN, AuditRecord
from gateway.data import decode_pk, encode_id
from resolvers.traffic import tables as t
from resolvers.traffic.workflow import PLATE_ALERT, check_close, suspicion
from tests.harness import Gateway, database_url, running_gateway
from tests.live import serving, subscribed

CAPTURE = """
mutation($input: CaptureInput!) { recordCapture(input: $input) { captureId recordedAt clientMutationId } }
"""
ALERTS = """
query($plate: String!) {
  plateAlerts(filter: {plate: $plate}) {
    nodes {
      id kind status detail interceptLocation
      capture { plate observedType location }
      vehicle { plate vehicleType }
      dispatchedTo { name }
      violations { fineYuan points detentionDays }
    }
  }
}
"""
STEP = (
    "{ plateAlert { id status interceptLocation dispatchedTo { name } violations { fineYuan points detentionDays } } }"
)
DISPATCH = f"mutation($input: DispatchInput!) {{ dispatchPlateAlert(input: $input) {STEP} }}"
INTERCEPT = f"mutation($input: InterceptInput!) {{ interceptPlateAlert(input: $input) {STEP} }}"
VIOLATION = f"mutation($input: ViolationInput!) {{ recordViolation(input: $input) {STEP} }}"
SUBSCRIBE = """
subscription($after: String) {
  plateAlertRaised(afterEvent: $after) { eventId kind plateAlert { id status kind capture { plate } } }
}
"""
PINHU_CAMERA = "JN-TJDD-K12.5"  # grid 15, in police.demo's area
NANJING_ROAD_CAMERA = "HP-NJL-001"  # grid 1, another officer's
OFFICER = encode_id("Staff", 2)  # police.demo


@pytest.fixture(scope="module")
def traffic_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("traffic"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(traffic_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of this module's own: its writes disturb no other test."""
    async with running_gateway(*traffic_url) as gateway:
        yield gateway


def just_now() -> str:
    return (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def capture(plate: str, kind: str = "小型轿车", colour: str = "红色", camera: str = PINHU_CAMERA) -> dict[str, Any]:
    return {
        "input": {
            "cameraCode": camera,
            "plate": plate,
            "observedType": kind,
            "observedColour": colour,
            "capturedAt": just_now(),
        }
    }


async def record(gw: Gateway, variables: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    response = await gw.post(CAPTURE, variables, role="traffic_camera", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def count(gw: Gateway, model: type[Any], *where: Any) -> int:
    async with gw.runtime.databases.session("traffic") as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def alert_of(gw: Gateway, plate: str) -> dict[str, Any]:
    """The newest alert on ``plate``, as police.demo sees it."""
    nodes = (await gw.query(ALERTS, {"plate": plate}, role="community_police"))["plateAlerts"]["nodes"]
    assert nodes
    return dict(max(nodes, key=lambda node: decode_pk(node["id"], "PlateAlert")))


async def step(gw: Gateway, mutation: str, given: dict[str, Any], role: str = "community_police") -> Any:
    response = await gw.post(mutation, {"input": given}, role)
    assert response.status_code == 200, response.text
    return response.json()


def code_of(body: Any) -> str:
    return str(body["errors"][0]["extensions"]["code"])


# ---------------------------------------------------------------------- a real socket, for subscriptions


async def last_event(gw: Gateway) -> str:
    async with gw.runtime.databases.session("traffic") as session:
        last = (await session.execute(select(func.coalesce(func.max(t.TrafficOutbox.id), 0)))).scalar_one()
    return f"traffic:{last}"


# ---------------------------------------------------------------------- the story


async def test_a_lorry_captured_as_a_car_walks_from_alert_to_penalty(gw: Gateway) -> None:
    after = await last_event(gw)
    async with serving(gw) as url, subscribed(url, gw.tokens["community_police"], SUBSCRIBE, {"after": after}) as next_:
        # Elsewhere in the city first: the officer's subscription must pass it over.
        assert "errors" not in await record(gw, capture("津D7Q301", camera=NANJING_ROAD_CAMERA))
        receipt = await record(gw, capture("津BE6237", kind="小型轿车", colour="红色"))
        assert set(receipt["data"]["recordCapture"]) == {"captureId", "recordedAt", "clientMutationId"}

        alert = await alert_of(gw, "津BE6237")
        assert alert["kind"] == "MISMATCH" and alert["status"] == "RAISED"
        assert alert["vehicle"] == {"plate": "津BE6237", "vehicleType": "重型半挂牵引车"}
        assert alert["capture"]["location"] == "天津大道 天津大道上行12.5公里处"
        assert "重型半挂牵引车" in alert["detail"] and "小型轿车" in alert["detail"]

        dispatched = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": OFFICER})
        assert dispatched["data"]["dispatchPlateAlert"]["plateAlert"]["status"] == "DISPATCHED"
        assert dispatched["data"]["dispatchPlateAlert"]["plateAlert"]["dispatchedTo"] == {"name": "陈立伟"}

        too_soon = await step(gw, VIOLATION, penalty(alert["id"]))
        assert code_of(too_soon) == "CONFLICT"
        assert too_soon["errors"][0]["extensions"]["allowed"] == ["dispatched", "intercepted"]
        again = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": OFFICER})
        assert code_of(again) == "CONFLICT" and "already dispatched to this officer" in again["errors"][0]["message"]

        stopped = {
            "alertId": alert["id"],
            "location": "天津大道与八里台出口",
            "interceptedAt": datetime.now(UTC).isoformat(),
        }
        intercepted = await step(gw, INTERCEPT, stopped)
        assert intercepted["data"]["interceptPlateAlert"]["plateAlert"]["status"] == "INTERCEPTED"

        decided = (await step(gw, VIOLATION, penalty(alert["id"])))["data"]["recordViolation"]["plateAlert"]
        assert decided["status"] == "CLOSED"
        assert decided["violations"] == [{"fineYuan": "5000.00", "points": 12, "detentionDays": 15}]
        closed = await step(gw, INTERCEPT, stopped)
        assert code_of(closed) == "CONFLICT" and "final state" in closed["errors"][0]["message"]

        kinds = []
        for _ in range(4):
            message = await next_()
            assert message["type"] == "next", message
            event = message["payload"]["data"]["plateAlertRaised"]
            assert event["plateAlert"]["id"] == alert["id"], event
            kinds.append(event["kind"])
        assert kinds == ["raised", "dispatched", "intercepted", "closed"]

    pk = decode_pk(alert["id"], "PlateAlert")
    assert await count(gw, t.Violation, t.Violation.alert_id == pk, t.Violation.vehicle_id == 1) == 1
    topics = select(t.TrafficOutbox.kind).where(t.TrafficOutbox.row_id == pk, t.TrafficOutbox.topic == "plateAlert")
    assert await scalars(gw, topics.order_by(t.TrafficOutbox.id)) == ["raised", "dispatched", "intercepted", "closed"]


def penalty(alert_id: str, **driver: str) -> dict[str, Any]:
    text = "驾驶人使用变造的机动车号牌"
    given = {"alertId": alert_id, "description": text, "fineYuan": "5000", "points": 12, "detentionDays": 15}
    return given | (driver or {"driverName": "张某某"})


async def scalar(gw: Gateway, stmt: Any) -> Any:
    async with gw.runtime.databases.session("traffic") as session:
        return (await session.execute(stmt)).scalar_one()


async def scalars(gw: Gateway, stmt: Any) -> list[Any]:
    async with gw.runtime.databases.session("traffic") as session:
        return list((await session.scalars(stmt)).all())


async def test_an_unregistered_plate_raises_an_alert_in_the_cameras_grid(gw: Gateway) -> None:
    body = await record(gw, capture("津B96237", kind="重型半挂牵引车"))
    assert "errors" not in body
    alert = await alert_of(gw, "津B96237")
    assert (alert["kind"], alert["status"], alert["vehicle"]) == ("UNREGISTERED", "RAISED", None)
    pk = decode_pk(alert["id"], "PlateAlert")
    assert await scalar(gw, select(t.PlateAlert.grid_id).where(t.PlateAlert.id == pk)) == 15


async def test_the_receipt_is_the_same_whether_or_not_an_alert_is_raised(gw: Gateway) -> None:
    clean = await record(gw, capture("津A3K729", kind="小型轿车", colour="白色"))  # matches its registration
    flagged = await record(gw, capture("津A3K729", kind="中型货车", colour="白色"))
    assert set(clean) == set(flagged) == {"data"}
    assert set(clean["data"]["recordCapture"]) == set(flagged["data"]["recordCapture"])
    captured = select(t.Capture.id).where(t.Capture.plate == "津A3K729", t.Capture.vehicle_id == 2)
    assert len(await scalars(gw, captured)) == 3  # the demo's own capture and these two
    assert await count(gw, t.PlateAlert, t.PlateAlert.capture_id.in_(captured)) == 1
    # Nothing of what it wrote can be read back by the camera.
    errors = await gw.errors("{ plateAlerts { totalCount } }", role="traffic_camera")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    captured_id = clean["data"]["recordCapture"]["captureId"]
    node = await gw.query("query($id: ID!) { node(id: $id) { id } }", {"id": captured_id}, role="traffic_camera")
    assert node == {"node": None}
    # The audit trail names each capture the camera wrote.
    async with gw.runtime.databases.session(AUDIT_DOMAIN) as session:
        written = select(AuditRecord.row_ids).where(AuditRecord.principal_id == "camera.demo")
        trail = " ".join((await session.scalars(written)).all())
    for receipt in (clean, flagged):
        assert str(decode_pk(receipt["data"]["recordCapture"]["captureId"], "Capture")) in trail


async def test_the_committee_sees_no_plate_alerts_at_all(gw: Gateway) -> None:
    for document in (
        "{ plateAlerts { totalCount } }",
        "subscription { plateAlertRaised { eventId } }",
        'mutation { dispatchPlateAlert(input: {alertId: "x", officerId: "y"}) { clientMutationId } }',
    ):
        errors = await gw.errors(document, role="committee_staff")
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", document


@pytest.mark.parametrize(
    ("field", "value", "argument"),
    [
        ("plate", "津B0623", "input.plate"),
        ("plate", "BE6237", "input.plate"),
        ("cameraCode", "NO-SUCH-CAMERA", "input.cameraCode"),
        ("observedType", "  ", "input.observedType"),
        ("capturedAt", "2026-03-12T08:51:00", "input.capturedAt"),
        ("capturedAt", "2099-01-01T00:00:00+08:00", "input.capturedAt"),
    ],
)
async def test_bad_captures_are_refused_and_write_nothing(gw: Gateway, field: str, value: str, argument: str) -> None:
    before = (await count(gw, t.Capture), await count(gw, t.PlateAlert), await count(gw, t.TrafficOutbox))
    variables = capture("津BE6237")
    variables["input"][field] = value
    body = await record(gw, variables)
    # A camera that does not exist is a missing row, NOT_FOUND as every other; the rest is bad input.
    assert code_of(body) == ("NOT_FOUND" if field == "cameraCode" else "BAD_USER_INPUT")
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert (await count(gw, t.Capture), await count(gw, t.PlateAlert), await count(gw, t.TrafficOutbox)) == before


async def test_a_replayed_capture_is_written_once(gw: Gateway) -> None:
    headers = {"Idempotency-Key": "camera-K12.5-000917"}
    variables = capture("津D9X455", kind="小型普通客车", colour="白色")
    first = await record(gw, variables, headers)
    second = await gw.post(CAPTURE, variables, role="traffic_camera", headers=headers)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first
    assert await count(gw, t.Capture, t.Capture.plate == "津D9X455") == 2  # the demo's and this one
    variables["input"]["observedColour"] = "黑色"
    assert code_of(await record(gw, variables, headers)) == "CONFLICT"
    assert await count(gw, t.Capture, t.Capture.plate == "津D9X455") == 2


async def test_dispatch_needs_a_serving_officer(gw: Gateway) -> None:
    await record(gw, capture("津HQ2208", kind="小型轿车", colour="蓝色"))
    alert = await alert_of(gw, "津HQ2208")
    # Not an officer, no such staff member (NOT_FOUND, as any missing row), not a staff ID at all.
    expected = {"Staff:3": "BAD_USER_INPUT", "Staff:999": "NOT_FOUND", "Grid:2": "BAD_USER_INPUT"}
    for name, code in expected.items():
        type_name, pk = name.split(":")
        body = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": encode_id(type_name, int(pk))})
        assert code_of(body) == code and body["errors"][0]["extensions"]["argument"] == "input.officerId", body
    assert (await alert_of(gw, "津HQ2208"))["status"] == "RAISED"


async def test_an_officer_who_cannot_see_the_alert_is_not_found(gw: Gateway) -> None:
    # 王振 (police.lihu) serves police grid 8; the alert lies in grid 15, bound to police grid 7.
    elsewhere, missing = encode_id("Staff", 9), encode_id("Staff", 999)
    await record(gw, capture("津HQ2209", kind="小型轿车", colour="蓝色"))
    alert = await alert_of(gw, "津HQ2209")
    events = await count(gw, t.TrafficOutbox)

    def refusal(officer: str, body: Any) -> tuple[str, str, str]:
        error = body["errors"][0]
        message = str(error["message"]).replace(officer, "<id>")
        return str(error["extensions"]["code"]), str(error["extensions"]["argument"]), message

    absent = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": missing})
    hidden = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": elsewhere})
    # The same answer as for a staff member who does not exist: nothing tells the two apart.
    assert (
        refusal(elsewhere, hidden)
        == refusal(missing, absent)
        == ("NOT_FOUND", "input.officerId", "No Staff with the ID given in input.officerId")
    )
    assert (await alert_of(gw, "津HQ2209"))["status"] == "RAISED"
    # Dispatched to the area's officer, it is not re-dispatched to one who could not see it either.
    assert (await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": OFFICER}))["data"]
    again = await step(gw, DISPATCH, {"alertId": alert["id"], "officerId": elsewhere})
    assert refusal(elsewhere, again) == refusal(missing, absent)
    stored = select(t.PlateAlert.status, t.PlateAlert.dispatched_to_staff_id).where(
        t.PlateAlert.id == decode_pk(alert["id"], "PlateAlert")
    )
    async with gw.runtime.databases.session("traffic") as session:
        assert tuple((await session.execute(stored)).one()) == ("dispatched", 2)
    assert await count(gw, t.TrafficOutbox) == events + 1, "only the accepted dispatch wrote an event"


async def test_an_alert_outside_the_officers_area_reads_as_missing(gw: Gateway) -> None:
    # Demo alert 3 lies in grid 26, 滨海新区: not police.demo's.
    body = await step(
        gw, INTERCEPT, {"alertId": encode_id("PlateAlert", 3), "location": "南海路", "interceptedAt": just_now()}
    )
    assert code_of(body) == "NOT_FOUND"
    assert await scalar(gw, select(t.PlateAlert.status).where(t.PlateAlert.id == 3)) == "dispatched"


@pytest.mark.parametrize(
    ("field", "value", "argument"),
    [
        ("points", 13, "input.points"),
        ("detentionDays", 16, "input.detentionDays"),
        ("fineYuan", "-1", "input.fineYuan"),
    ],
)
async def test_a_penalty_beyond_the_law_is_refused(gw: Gateway, field: str, value: Any, argument: str) -> None:
    before = await count(gw, t.Violation)
    given = penalty(encode_id("PlateAlert", 1))  # the demo's intercepted alert, in police.demo's area
    given[field] = value
    body = await step(gw, VIOLATION, given)
    assert code_of(body) == "BAD_USER_INPUT" and body["errors"][0]["extensions"]["argument"] == argument
    assert await count(gw, t.Violation) == before


async def test_the_officer_sees_the_penalty_on_an_unregistered_plate(gw: Gateway) -> None:
    await record(gw, capture("津B0E2E7", kind="重型半挂牵引车"))
    alert = (await alert_of(gw, "津B0E2E7"))["id"]
    await step(gw, DISPATCH, {"alertId": alert, "officerId": OFFICER})
    await step(
        gw, INTERCEPT, {"alertId": alert, "location": "天津大道", "interceptedAt": datetime.now(UTC).isoformat()}
    )
    closed = (await step(gw, VIOLATION, penalty(alert)))["data"]["recordViolation"]["plateAlert"]
    assert closed["status"] == "CLOSED"
    assert closed["violations"] == [{"fineYuan": "5000.00", "points": 12, "detentionDays": 15}]


# ---------------------------------------------------------------------- the rules on their own


def test_the_alert_machine() -> None:
    assert PLATE_ALERT.allowed("raised") == {"dispatched", "closed"}
    check_close("dismissPlateAlert", "raised")
    check_close("recordViolation", "intercepted")
    with pytest.raises(Exception, match="needs it intercepted"):
        check_close("recordViolation", "raised")
    with pytest.raises(Exception, match="Allowed from dispatched: dispatched, intercepted"):
        check_close("dismissPlateAlert", "dispatched")


class Registered:
    vehicle_type = "重型半挂牵引车"
    colour = "红色"


def test_what_a_capture_raises() -> None:
    assert suspicion("津BE6237", "重型半挂牵引车", "红", Registered()) is None
    assert suspicion("津BE6237", "小型轿车", "红色", Registered()) is not None
    assert suspicion("津BE6237", "重型半挂牵引车", "蓝色", Registered()) is not None
    assert suspicion("津B06237", "重型半挂牵引车", "红色", None) == ("unregistered", "号牌“津B06237”无登记记录。")
