"""Times with their offset, dates local: a time sent with an offset is taken as it says, one without
as local time; a day of a date filter runs from local midnight; mutation answers and live events
carry the offset; the zone is a setting. (That every DateTime of every answer of the corpus of
read queries carries the offset is checked where that corpus runs, tests/test_compiled_reads.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from gateway.kernel import Settings, load_registry
from gateway.schema import build_schema
from resolvers.traffic.tables import TrafficOutbox
from tests.datetimes import ZONE, with_offset
from tests.harness import Gateway, database_url, running_gateway
from tests.live import serving, subscribed

CAPTURE = """
mutation($input: CaptureInput!) { recordCapture(input: $input) { captureId recordedAt } }
"""
ALERTS = """
query($plate: String!, $raised: DateRange) {
  plateAlerts(first: 5, filter: {plate: $plate, raised: $raised}) { nodes { raisedAt capture { capturedAt } } }
}
"""
RAISED = """
subscription($after: String) { plateAlertRaised(afterEvent: $after) { plateAlert { raisedAt capture { plate } } } }
"""
CAMERA = "JN-TJDD-K12.5"  # grid 15, police.demo's


def test_the_zone_is_a_setting() -> None:
    moment = datetime(2026, 7, 1, 4, 5, 6, tzinfo=UTC)
    for zone, shown in (("Asia/Shanghai", "2026-07-01T12:05:06+08:00"), ("Europe/London", "2026-07-01T05:05:06+01:00")):
        scalar = build_schema(load_registry().domains, zone=ZoneInfo(zone))._schema.type_map["DateTime"]
        assert scalar.serialize(moment) == shown  # type: ignore[attr-defined]
        # SQLite hands back its UTC times without a zone: the same moment.
        assert scalar.serialize(moment.replace(tzinfo=None)) == shown  # type: ignore[attr-defined]
    assert Settings(timezone="Europe/London").zone == ZoneInfo("Europe/London")
    assert Settings().zone == ZONE
    with pytest.raises(ValidationError, match="no time zone"):
        Settings(timezone="Tianjin/Binhai")


@pytest.fixture(scope="module")
def times_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("times"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def tg(times_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests record captures."""
    async with running_gateway(*times_url) as gateway:
        yield gateway


async def _capture(gw: Gateway, plate: str, captured_at: str) -> dict[str, Any]:
    given = {"cameraCode": CAMERA, "plate": plate, "observedType": "小型轿车", "observedColour": "白色"}
    body = (await gw.post(CAPTURE, {"input": {**given, "capturedAt": captured_at}}, "traffic_camera")).json()
    assert "errors" not in body, body
    return dict(body["data"]["recordCapture"])


async def _alerts(gw: Gateway, plate: str, raised: dict[str, str] | None = None) -> list[dict[str, Any]]:
    data = await gw.query(ALERTS, {"plate": plate, "raised": raised}, role="community_police")
    return list(data["plateAlerts"]["nodes"])


async def test_inputs_with_an_offset_are_converted_and_without_one_refused(tg: Gateway) -> None:
    # Yesterday (local) at 07:00 in Tianjin: 23:00 UTC the day before, a day apart in UTC.
    day = datetime.now(ZONE).date() - timedelta(days=1)
    local = datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZONE)
    receipt = await _capture(tg, "津X7T001", local.astimezone(UTC).isoformat().replace("+00:00", "Z"))
    assert with_offset(receipt["recordedAt"])
    await _capture(tg, "津X7T002", local.isoformat())
    for plate in ("津X7T001", "津X7T002"):
        (alert,) = await _alerts(tg, plate)
        assert alert["raisedAt"] == alert["capture"]["capturedAt"] == local.isoformat()
        # The local day holds it, and the UTC day it falls in does not.
        assert await _alerts(tg, plate, {"since": day.isoformat(), "until": day.isoformat()}) == [alert]
        before = (day - timedelta(days=1)).isoformat()
        assert await _alerts(tg, plate, {"since": before, "until": before}) == []
    # Without an offset, or not a time at all: refused as bad input, naming the field where it can.
    given = {"cameraCode": CAMERA, "plate": "津X7T003", "observedType": "小型轿车", "observedColour": "白色"}
    for sent, argument in ((local.replace(tzinfo=None).isoformat(), "input.capturedAt"), ("yesterday", None)):
        body = (await tg.post(CAPTURE, {"input": {**given, "capturedAt": sent}}, "traffic_camera")).json()
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"].get("argument") == argument
    assert await _alerts(tg, "津X7T003") == []


async def test_live_events_carry_the_offset(tg: Gateway) -> None:
    now = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
    async with tg.runtime.databases.session("traffic") as session:
        last = (await session.execute(select(func.coalesce(func.max(TrafficOutbox.id), 0)))).scalar_one()
    after = {"after": f"traffic:{last}"}
    async with serving(tg) as url, subscribed(url, tg.tokens["community_police"], RAISED, after) as next_:
        await _capture(tg, "津X7T004", now.isoformat())
        event = await next_()
    raised = event["payload"]["data"]["plateAlertRaised"]["plateAlert"]
    assert raised["capture"]["plate"] == "津X7T004"
    assert raised["raisedAt"] == now.astimezone(ZONE).isoformat()


def test_the_servers_date_is_asked_again_once_its_day_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """``server_today`` (a resident's age, per row) keeps the date until the local midnight that ends it."""
    from gateway.kernel import times

    assert times.server_today() == date.today()
    kept, ends = times._server_day
    assert ends == datetime.combine(kept + timedelta(days=1), datetime.min.time()).timestamp()
    yesterday = kept - timedelta(days=1)
    monkeypatch.setattr(times, "_server_day", (yesterday, ends - 86_400))
    assert times.server_today() == date.today(), "a day over is asked again"
    monkeypatch.setattr(times, "_server_day", (yesterday, ends + 1))
    assert times.server_today() == yesterday, "a day not over is kept"
