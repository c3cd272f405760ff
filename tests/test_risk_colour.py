"""分色预警: the risk-colour rule on the demo data, and grids recoloured by the reactions to
disputes, plate alerts and flagged check-ins as they happen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select

from gateway.data import Databases, encode_id
from gateway.feed import Event, emit
from gateway.kernel import load_registry
from resolvers.grid.risk import KIND, TOPIC, WINDOW, colour, recompute, scores, sweep
from resolvers.grid.tables import Grid, GridOutbox
from resolvers.population.tables import GuestCheckIn, PopulationOutbox
from resolvers.seed.demo import at
from resolvers.traffic.tables import Capture, PlateAlert, TrafficOutbox
from tests.harness import Gateway, database_url, running_gateway

# The demo's "today": the 30 days before it hold most of its stories.
DEMO_NOW = at(3, 16, 12)
# Grid → score on that day: open disputes (2, escalated 3), open plate alerts (3), flagged check-ins (2).
DEMO_SCORES = {7: 2, 8: 2, 12: 2, 15: 3, 16: 2, 17: 2, 18: 3, 26: 3}
GRID = "query($id: ID!) { grid(id: $id) { riskColour } }"


@pytest.fixture(scope="module")
def risk_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("risk"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def rg(risk_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests write disputes, alerts and check-ins."""
    async with running_gateway(*risk_url) as gateway:
        yield gateway


async def _stored(gw: Gateway) -> dict[int, str]:
    async with gw.runtime.databases.session("grid") as session:
        return {row.id: row.risk_colour for row in (await session.execute(select(Grid.id, Grid.risk_colour))).all()}


async def _becomes(gw: Gateway, grid: int, expected: str, seconds: float = 10) -> None:
    """Wait for the reactions to give ``grid`` the colour ``expected``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (await _stored(gw))[grid] != expected:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"grid {grid} is still {(await _stored(gw))[grid]}, not {expected}, after {seconds}s")
        await asyncio.sleep(0.05)
    data = await gw.query(GRID, {"id": encode_id("Grid", grid)})
    assert data["grid"]["riskColour"] == expected.upper()


async def _colour_events(gw: Gateway, grid: int) -> int:
    async with gw.runtime.databases.session("grid") as session:
        stmt = select(GridOutbox.id).where(GridOutbox.row_id == grid, GridOutbox.kind == "riskColour")
        return len((await session.scalars(stmt)).all())


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "blue"), (1, "blue"), (2, "yellow"), (4, "yellow"), (5, "orange"), (7, "orange"), (8, "red"), (20, "red")],
)
def test_thresholds(score: int, expected: str) -> None:
    assert colour(score) == expected


async def _rule(gw: Gateway, now: datetime) -> dict[int, str]:
    grids = sorted(await _stored(gw))
    return {g: colour(s) for g, s in (await scores(gw.runtime.databases, grids, now)).items()}


async def _all_colour_events(gw: Gateway) -> list[int]:
    async with gw.runtime.databases.session("grid") as session:
        return list((await session.scalars(select(GridOutbox.row_id).where(GridOutbox.kind == KIND))).all())


async def test_the_seeded_colours_are_the_rules(rg: Gateway) -> None:
    # First in this module: nothing has recoloured a grid of the freshly seeded data yet.
    assert await _stored(rg) == await _rule(rg, datetime.now(UTC))
    # The stories of the demo's month, had it been seeded then, colour their grids.
    assert await _rule(rg, DEMO_NOW) == {g: colour(DEMO_SCORES.get(g, 0)) for g in await _stored(rg)}


async def test_recompute_is_deterministic_on_the_demo_data(rg: Gateway) -> None:
    grids = sorted(await _stored(rg))
    assert await scores(rg.runtime.databases, grids, DEMO_NOW) == {g: DEMO_SCORES.get(g, 0) for g in grids}
    expected = {g: colour(DEMO_SCORES.get(g, 0)) for g in grids}
    assert await recompute(rg.runtime.databases, grids, DEMO_NOW) == expected
    assert await _stored(rg) == expected
    events = await _colour_events(rg, 18)
    assert await recompute(rg.runtime.databases, grids, DEMO_NOW) == expected
    assert await _stored(rg) == expected
    assert await _colour_events(rg, 18) == events, "an unchanged colour writes no event"
    # Back to the present for the tests that follow (the sweep's own path).
    await sweep(rg.runtime.databases, datetime.now(UTC))
    assert await _stored(rg) == await _rule(rg, datetime.now(UTC))


async def test_reported_disputes_turn_a_grid_orange_then_red(rg: Gateway) -> None:
    # Grid 17 (the committee's) has no open dispute within the last 30 days of today.
    assert await recompute(rg.runtime.databases, [17]) == {17: "blue"}
    before = await _colour_events(rg, 17)
    report = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"
    given = {
        "title": "楼道堆物 / clutter in the stairwell",
        "category": "NEIGHBOUR",
        "description": "三楼住户在楼道堆放杂物 / third-floor clutter",
        "gridId": encode_id("Grid", 17),
        "parties": [{"role": "COMPLAINANT", "name": "王建国"}],
    }
    for _ in range(3):
        await rg.query(report, {"input": given}, role="committee_staff")
    await _becomes(rg, 17, "orange")
    await rg.query(report, {"input": given}, role="committee_staff")
    await _becomes(rg, 17, "red")
    assert await _colour_events(rg, 17) > before


async def test_plate_alerts_and_flagged_check_ins_recolour_their_grids(rg: Gateway) -> None:
    databases = rg.runtime.databases
    assert await recompute(databases, [15, 16]) == {15: "blue", 16: "blue"}
    now = datetime.now(UTC)
    async with databases.session("traffic") as session, session.begin():
        for n in range(2):  # camera 2 watches grid 15
            capture = Capture(
                camera_id=2, plate=f"津X0000{n}", observed_type="小型轿车", observed_colour="白色", captured_at=now
            )
            session.add(capture)
            await session.flush()
            alert = PlateAlert(capture_id=capture.id, grid_id=15, kind="unregistered", status="raised", raised_at=now)
            session.add(alert)
            await session.flush()
            await emit(session, TrafficOutbox, "plateAlert", "PlateAlert", alert.id, 15, "raised")
    async with databases.session("population") as session, session.begin():
        for n in range(3):  # rental property 2 lies in grid 16
            check_in = GuestCheckIn(
                property_id=2,
                grid_id=16,
                guest_name="李明",
                guest_id_number=f"37010219880229{n:03d}X",
                checked_in_at=now,
                verification="mismatch",
                flagged=True,
                flag_status="flagged",
            )
            session.add(check_in)
            await session.flush()
            await emit(session, PopulationOutbox, "checkIn", "GuestCheckIn", check_in.id, 16, "flagged")
    await rg.runtime.feed.committed()
    await _becomes(rg, 15, "orange")  # two open alerts: 6
    await _becomes(rg, 16, "orange")  # three flagged check-ins: 6


async def test_a_grid_turns_back_to_blue_when_its_window_passes(rg: Gateway) -> None:
    runtime = rg.runtime
    now = datetime.now(UTC)
    # Grid 17, the committee's: the disputes reported above made it red, this one keeps it so.
    report = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"
    given = {
        "title": "噪音扰民 / noise at night",
        "category": "NEIGHBOUR",
        "description": "楼上夜间噪音 / noise from upstairs at night",
        "gridId": encode_id("Grid", 17),
        "parties": [{"role": "COMPLAINANT", "name": "赵丽"}],
    }
    await rg.query(report, {"input": given}, role="committee_staff")
    await _becomes(rg, 17, "red")  # five open disputes: 10
    before = await _colour_events(rg, 17)
    live = runtime.feed.events("grid", TOPIC)
    first = asyncio.ensure_future(anext(live))
    await asyncio.sleep(0)  # subscribed before anything is swept
    try:
        # A day short of the window: still yellow, and the schedule writes nothing.
        runtime.clock = lambda: now + WINDOW - timedelta(days=1)
        await runtime.run_schedules()
        assert (await _stored(rg))[17] == "red"
        assert await _colour_events(rg, 17) == before
        # The window has passed with no new event: blue, announced once like any other change.
        runtime.clock = lambda: now + WINDOW + timedelta(days=1)
        await runtime.run_schedules()
        await _becomes(rg, 17, "blue")
        assert await _colour_events(rg, 17) == before + 1
        event = await asyncio.wait_for(first, 10)
        assert (event.type_name, event.kind) == ("Grid", KIND)
        await runtime.run_schedules()
        assert await _colour_events(rg, 17) == before + 1, "a swept grid already blue writes no event"
        assert await _stored(rg) == await _rule(rg, now + WINDOW + timedelta(days=1))
    finally:
        first.cancel()
        await cast(AsyncGenerator[Event, None], live).aclose()
        runtime.clock = lambda: datetime.now(UTC)
        await runtime.run_schedules()
    assert (await _stored(rg))[17] == "red"


async def test_two_workers_sweeping_at_once_write_one_event_per_change(rg: Gateway) -> None:
    # Another worker: its own engines on the same databases (the process lock does not join them).
    other = Databases(rg.settings, load_registry().names)
    later = datetime.now(UTC) + WINDOW + timedelta(days=1)
    try:
        before = await _all_colour_events(rg)
        changing = {g for g, c in (await _stored(rg)).items() if c != "blue"}
        assert changing, "some grid is coloured now, or this test shows nothing"
        await asyncio.gather(sweep(rg.runtime.databases, later), sweep(other, later))
        assert set((await _stored(rg)).values()) == {"blue"}
        after = await _all_colour_events(rg)
        assert sorted(after[len(before) :]) == sorted(changing)
    finally:
        await other.dispose()
        await sweep(rg.runtime.databases, datetime.now(UTC))
