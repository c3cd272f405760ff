"""``seed``: the article's demo data and the synthetic population, on fresh SQLite databases."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, String, func, select, text
from sqlalchemy.orm import DeclarativeBase

from gateway.data import Databases
from gateway.kernel import Settings
from resolvers.dispute.tables import Agreement, Dispute, DisputeBase, DisputeParty, FollowUp
from resolvers.grid.risk import colour, scores
from resolvers.grid.tables import Agency, Community, District, Grid, GridBase, GridBinding, Staff, Street
from resolvers.population import idnumber
from resolvers.population.tables import Household, PopulationBase, Resident
from resolvers.seed import DEMO_PRINCIPALS, city, demo, seed
from resolvers.seed.synthetic import identity
from resolvers.traffic.tables import Capture, PlateAlert, TrafficBase, Vehicle, Violation
from resolvers.volunteer.tables import Volunteer, VolunteerBase
from tests.harness import postgres_database
from tests.test_row_counts import kept_and_counted

METADATA: dict[str, MetaData] = {
    "grid": GridBase.metadata,
    "population": PopulationBase.metadata,
    "dispute": DisputeBase.metadata,
    "volunteer": VolunteerBase.metadata,
    "traffic": TrafficBase.metadata,
}
DISTRICT_CODES = {
    "120101": "和平区", "120102": "河东区", "120103": "河西区", "120104": "南开区",
    "120105": "河北区", "120106": "红桥区", "120110": "东丽区", "120111": "西青区",
    "120112": "津南区", "120113": "北辰区", "120114": "武清区", "120115": "宝坻区",
    "120116": "滨海新区", "120117": "宁河区", "120118": "静海区", "120119": "蓟州区",
}  # fmt: skip
PLATE = re.compile(r"^津[A-Z][A-Z0-9]{5}$")
PHONE = re.compile(r"^1[358]\d{9}$")


async def fresh_databases(folder: Path) -> Databases:
    databases = Databases(Settings(db_url=f"sqlite+aiosqlite:///{folder / 'seed.db'}"), ("gateway", *METADATA))
    for domain, metadata in METADATA.items():
        async with databases.engine(domain).begin() as connection:
            await connection.run_sync(metadata.create_all)
    return databases


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Databases, dict[str, int]]]:
    databases = await fresh_databases(tmp_path_factory.mktemp("seed"))
    counts = await seed(databases)
    yield databases, counts
    await databases.dispose()


@pytest.fixture
async def empty(tmp_path: Path) -> AsyncIterator[Databases]:
    databases = await fresh_databases(tmp_path)
    yield databases
    await databases.dispose()


async def all_rows(databases: Databases, model: type[DeclarativeBase]) -> list[dict[str, Any]]:
    table = model.metadata.tables[model.__tablename__]
    async with databases.session(_domain(model)) as session:
        result = await session.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in result.mappings()]


def _domain(model: type[DeclarativeBase]) -> str:
    return next(domain for domain, metadata in METADATA.items() if metadata is model.metadata)


async def count(databases: Databases, model: type[DeclarativeBase]) -> int:
    table = model.metadata.tables[model.__tablename__]
    async with databases.session(_domain(model)) as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_the_sixteen_districts_with_their_codes(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, counts = seeded
    assert counts["district"] == 16
    districts = await all_rows(databases, District)
    assert {row["code"]: row["name"] for row in districts} == DISTRICT_CODES


async def test_every_resident_id_number_is_valid_and_agrees_with_the_record(
    seeded: tuple[Databases, dict[str, int]],
) -> None:
    residents = await all_rows(seeded[0], Resident)
    assert 40 <= len(residents) <= 80
    for row in residents:
        assert idnumber.problem(row["id_number"]) is None, row
        assert row["id_number"][6:14] == f"{row['birth_date']:%Y%m%d}"
        assert int(row["id_number"][16]) % 2 == (1 if row["gender"] == "male" else 0)
        assert row["address"].startswith(row["building"])
        assert PHONE.match(row["phone"]), row["phone"]
    assert {row["registration_kind"] for row in residents} == {"registered", "floating", "foreign"}
    assert {row["status"] for row in residents} == {"active", "pending_review"}


async def test_plates_are_tianjin_plates(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    for row in await all_rows(databases, Vehicle) + await all_rows(databases, Capture):
        assert PLATE.match(row["plate"]), row["plate"]


async def test_the_burst_pipe_was_settled_for_9000_yuan(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    [agreement] = [row for row in await all_rows(databases, Agreement) if row["amount"] == 9000]
    assert agreement["via_judicial_office"] is True
    dispute = next(row for row in await all_rows(databases, Dispute) if row["id"] == agreement["dispute_id"])
    assert (dispute["category"], dispute["status"]) == ("property_damage", "closed")
    assert any(row["dispute_id"] == dispute["id"] for row in await all_rows(databases, FollowUp))
    judicial = next(row for row in await all_rows(databases, Agency) if row["principal_id"] == "judicial.demo")
    assert dispute["street_id"] == judicial["street_id"]


async def test_the_altered_plate_lorry_was_intercepted_and_fined(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    [alert] = [row for row in await all_rows(databases, PlateAlert) if row["kind"] == "altered"]
    police = next(row for row in await all_rows(databases, Staff) if row["principal_id"] == "police.demo")
    assert (alert["status"], alert["dispatched_to_staff_id"]) == ("closed", police["id"])
    assert alert["intercept_location"] == "天津大道下行21.8公里处"
    # The alert names the real vehicle (津BE6237) behind the altered plate, at the capture's time.
    [capture] = [row for row in await all_rows(databases, Capture) if row["id"] == alert["capture_id"]]
    assert (capture["plate"], alert["vehicle_id"], alert["raised_at"]) == ("津B06237", 1, capture["captured_at"])
    [violation] = [row for row in await all_rows(databases, Violation) if row["alert_id"] == alert["id"]]
    assert (violation["fine_yuan"], violation["points"], violation["detention_days"]) == (5000, 12, 15)
    assert (violation["vehicle_id"], violation["driver_id"]) == (1, 16)


async def test_the_demo_principals_and_their_areas(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    staff = {row["principal_id"]: row for row in await all_rows(databases, Staff)}
    agencies = {row["principal_id"]: row for row in await all_rows(databases, Agency)}
    for role, principal_id in DEMO_PRINCIPALS.items():
        assert (staff.get(principal_id) or agencies[principal_id])["role"] == role
    bindings = {row["grid_id"]: row["police_grid_id"] for row in await all_rows(databases, GridBinding)}
    grids = {row["id"]: row for row in await all_rows(databases, Grid)}
    communities = {row["id"]: row for row in await all_rows(databases, Community)}

    police_grids = {g for g, pg in bindings.items() if pg == staff["police.demo"]["police_grid_id"]}
    assert 2 <= len(police_grids) <= 3
    resident_grids = {row["grid_id"] for row in await all_rows(databases, Resident)}
    dispute_grids = {row["grid_id"] for row in await all_rows(databases, Dispute)}
    assert police_grids <= resident_grids and len(police_grids & dispute_grids) >= 2

    community_id = staff["committee.demo"]["community_id"]
    community_grids = {g for g, row in grids.items() if row["community_id"] == community_id}
    assert community_grids & police_grids and community_grids - police_grids
    assert staff["gridworker.demo"]["grid_id"] in community_grids
    assert agencies["judicial.demo"]["street_id"] == communities[community_id]["street_id"]
    assert agencies["judicial.demo"]["scopes"] == "dispute:read,dispute:mediate"
    assert (agencies["camera.demo"]["street_id"], agencies["camera.demo"]["scopes"]) == (None, "traffic:ingest")
    assert all(PHONE.match(row["phone"]) for row in staff.values())
    for principal_id in ("analyst.city", "auditor.city"):
        row = staff[principal_id]
        assert row["grid_id"] is row["community_id"] is row["police_grid_id"] is None


async def test_grids_police_grids_and_disputes_fit_together(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    bindings = await all_rows(databases, GridBinding)
    grids = {row["id"]: row for row in await all_rows(databases, Grid)}
    assert sorted(row["grid_id"] for row in bindings) == sorted(grids)
    per_police_grid: dict[int, int] = {}
    for row in bindings:
        per_police_grid[row["police_grid_id"]] = per_police_grid.get(row["police_grid_id"], 0) + 1
    assert set(per_police_grid.values()) <= {2, 3}
    # Each colour is the rule's for today (the demo's stories of March have left the 30-day window).
    await _colours_follow_the_rule(databases)
    communities = {row["id"]: row for row in await all_rows(databases, Community)}
    for dispute in await all_rows(databases, Dispute):
        assert dispute["street_id"] == communities[grids[dispute["grid_id"]]["community_id"]]["street_id"]
    residents = {row["id"]: row for row in await all_rows(databases, Resident)}
    for party in await all_rows(databases, DisputeParty):
        if party["resident_id"] is not None:
            # A link to a real resident, with no copy of the resident's details.
            assert party["resident_id"] in residents
            assert (party["name"], party["phone"], party["id_number"]) == (None, None, None)
        else:
            assert party["name"]


def test_demo_values_fit_their_columns() -> None:
    # SQLite ignores VARCHAR lengths; PostgreSQL refuses the whole batch.
    for tables in demo.rows_by_domain().values():
        for table, rows in tables:
            for row in rows:
                for key, value in row.items():
                    column_type = table.c[key].type
                    if isinstance(value, str) and isinstance(column_type, String) and column_type.length:
                        assert len(value) <= column_type.length, f"{table.name}.{key} = {value!r}"


async def test_seeding_twice_writes_no_duplicates(seeded: tuple[Databases, dict[str, int]]) -> None:
    databases, _ = seeded
    before = [await count(databases, model) for model in (District, Street, Resident, Dispute, Staff)]
    assert await seed(databases) == {}
    assert [await count(databases, model) for model in (District, Street, Resident, Dispute, Staff)] == before


async def test_synthetic_residents_are_valid_unique_and_repeatable(empty: Databases, tmp_path: Path) -> None:
    demo_count = len(demo.RESIDENTS)
    counts = await seed(empty, residents=500)
    assert counts["resident"] == demo_count + 500
    second = await seed(empty, residents=500)
    assert second["resident"] == 500 and "district" not in second
    residents = await all_rows(empty, Resident)
    assert len(residents) == demo_count + 1000
    assert len({row["id_number"] for row in residents}) == len(residents)
    for row in residents:
        assert idnumber.problem(row["id_number"]) is None, row
    households = {row["id"]: row for row in await all_rows(empty, Household)}
    grids = {row["id"] for row in await all_rows(empty, Grid)}
    for row in residents:
        assert row["grid_id"] in grids
        assert households[row["household_id"]]["grid_id"] == row["grid_id"]

    again = await fresh_databases(tmp_path / "again")
    try:
        await seed(again, residents=500)
        first_run = [row for row in residents if row["id"] <= demo_count + 500]
        assert await all_rows(again, Resident) == first_run
    finally:
        await again.dispose()


def test_synthetic_identities_never_repeat() -> None:
    pairs = {identity(n) for n in range(1, 200_001)}
    assert len(pairs) == 200_000
    assert all(sequence < demo.DEMO_SEQUENCE_BASE for _, sequence in pairs)


async def _check_city(databases: Databases, counts: dict[str, int], residents: int) -> None:
    """What ``seed --city`` wrote hangs together: every companion row names a real resident in
    its grid, at the rates the city module states, and nothing is duplicated."""
    assert counts["resident"] == residents
    people = {row["id"]: row for row in await all_rows(databases, Resident)}
    synthetic_ids = sorted(people)[-residents:]
    ours = set(synthetic_ids)
    volunteers = [row for row in await all_rows(databases, Volunteer) if row["resident_id"] in ours]
    assert len(volunteers) == counts["volunteer"] == sum(1 for n in synthetic_ids if n % city.VOLUNTEER_EVERY == 0)
    for row in volunteers:
        assert people[row["resident_id"]]["grid_id"] == row["grid_id"]
    vehicles = [row for row in await all_rows(databases, Vehicle) if row["owner_id"] in ours]
    assert len(vehicles) == counts["vehicle"] > 0
    assert all(PLATE.match(row["plate"]) for row in vehicles)
    assert all(people[row["owner_id"]]["grid_id"] == row["grid_id"] for row in vehicles)
    disputes = await all_rows(databases, Dispute)
    assert counts["dispute"] == sum(1 for n in synthetic_ids if n % city.DISPUTE_EVERY == 0) > 0
    parties = await all_rows(databases, DisputeParty)
    assert counts["dispute_party"] == 2 * counts["dispute"]
    assert len({row["code"] for row in disputes}) == len(disputes)
    linked = [row for row in parties[-counts["dispute_party"] :] if row["resident_id"] is not None]
    assert len(linked) == counts["dispute"] and all(row["resident_id"] in people for row in linked)
    captures = await all_rows(databases, Capture)
    assert counts["capture"] > 0 and len(captures) >= counts["capture"]
    alerts = await all_rows(databases, PlateAlert)
    assert len(alerts) >= counts.get("plate_alert", 0)


async def _counts_are_exact(databases: Databases) -> None:
    """The residents the counts table keeps are the residents there are (gateway.data.counts)."""
    kept, counted = await kept_and_counted(databases)
    assert kept == counted


async def _colours_follow_the_rule(databases: Databases) -> None:
    grids = {row["id"]: row["risk_colour"] for row in await all_rows(databases, Grid)}
    rule = {g: colour(n) for g, n in (await scores(databases, grids, datetime.now(UTC))).items()}
    assert grids == rule


async def test_the_city_at_a_small_scale_hangs_together(empty: Databases) -> None:
    await seed(empty)
    counts = await seed(empty, city_scale=0.001)
    await _check_city(empty, counts, 13_600)
    await _counts_are_exact(empty)
    await _colours_follow_the_rule(empty)
    assert counts["grid"] == 20, "a community of five grids for every 3,250 residents"


def test_the_city_loads_by_copy_on_postgresql_with_its_indexes_rebuilt() -> None:
    with postgres_database() as url:
        asyncio.run(_city_on(url))


async def _city_on(url: str) -> None:
    databases = Databases(Settings(db_url=url), ("gateway", *METADATA))
    try:
        for metadata in METADATA.values():
            async with databases.engine("grid").begin() as connection:
                await connection.run_sync(metadata.create_all)
        indexes = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
        async with databases.session("grid") as session:
            before = (await session.execute(text(indexes))).scalar_one()
        await seed(databases)
        counts = await seed(databases, city_scale=0.001)
        await _check_city(databases, counts, 13_600)
        await _counts_are_exact(databases)
        async with databases.session("grid") as session:
            assert (await session.execute(text(indexes))).scalar_one() == before, "every index is back"
            # Vacuumed, not only analyzed: rows loaded by COPY have no visibility-map bits until then.
            unvacuumed = text(
                "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('resident', 'household') "
                "AND last_vacuum IS NULL"
            )
            assert (await session.execute(unvacuumed)).scalars().all() == []
    finally:
        await databases.dispose()
