"""Counts over the whole city read the rows kept per grid (gateway.data.counts), which the database's
triggers keep exact: after inserts, deletes, moves to another grid and a bulk load alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from gateway.data import counting_paused, statement_log
from resolvers.population.tables import PopulationGridCount, Resident
from tests.harness import Gateway, database_url, running_gateway

TOTAL = "{ residents(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
def counts_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("counts"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def cg(counts_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests write residents behind the API's back."""
    async with running_gateway(*counts_url, residents=300) as gateway:
        yield gateway


async def kept_and_counted(gw: Gateway) -> tuple[dict[int, int], dict[int, int]]:
    """Residents per grid as the counts table keeps them, and as counting the rows finds them."""
    async with gw.runtime.databases.session("population") as session:
        kept = await session.execute(
            select(PopulationGridCount.grid_key, PopulationGridCount.n).where(
                PopulationGridCount.table_name == "resident", PopulationGridCount.n != 0
            )
        )
        counted = await session.execute(select(Resident.grid_id, func.count()).group_by(Resident.grid_id))
        return {g: int(n) for g, n in kept.all()}, {g: int(n) for g, n in counted.all()}


def resident_row(number: int, grid: int) -> dict[str, Any]:
    """The columns of a test resident, written behind the API's back."""
    return {
        "id_number": f"12010119900101{number:04d}",
        "name": f"计数{number}",
        "gender": "女",
        "birth_date": date(1990, 1, 1),
        "address": "测试路1号",
        "building": "1号楼",
        "grid_id": grid,
        "household_id": None,
        "registration_kind": "registered",
        "status": "active",
        "registered_at": datetime(2026, 1, 1, tzinfo=UTC),
    }


async def _total(gw: Gateway, compiled: bool) -> tuple[int, list[str]]:
    settings = gw.runtime.settings
    log: list[str] = []
    before, settings.compiled_reads = settings.compiled_reads, compiled
    token = statement_log.set(log)
    try:
        data = await gw.query(TOTAL, role="city_analyst")
    finally:
        statement_log.reset(token)
        settings.compiled_reads = before
    return int(data["residents"]["totalCount"]), log


async def test_the_counts_stay_exact_through_inserts_moves_and_deletes(cg: Gateway) -> None:
    kept, counted = await kept_and_counted(cg)
    assert kept == counted and sum(counted.values()) > 300
    async with cg.runtime.databases.write_session("population") as session, session.begin():
        session.add_all([Resident(**resident_row(i, grid)) for i, grid in enumerate([1, 1, 2, 4, 3])])
    async with cg.runtime.databases.write_session("population") as session, session.begin():
        moved = select(Resident.id).where(Resident.grid_id == 1).order_by(Resident.id.desc()).limit(3)
        ids = list((await session.scalars(moved)).all())
        await session.execute(update(Resident).where(Resident.id.in_(ids[:2])).values(grid_id=2))
        await session.execute(update(Resident).where(Resident.id == ids[2]).values(grid_id=4))
        # A change of another column moves nothing.
        await session.execute(update(Resident).where(Resident.grid_id == 3).values(status="active"))
        await session.execute(delete(Resident).where(Resident.name == "计数4"))
    async with cg.runtime.databases.write_session("population") as session, session.begin():
        # Rolled back: counted neither way.
        session.add(Resident(**resident_row(9, 1)))
        await session.flush()
        await session.rollback()
    kept, counted = await kept_and_counted(cg)
    assert kept == counted


@pytest.mark.parametrize("compiled", [True, False])
async def test_the_whole_city_count_reads_the_counts_and_agrees(cg: Gateway, compiled: bool) -> None:
    total, log = await _total(cg, compiled)
    _, counted = await kept_and_counted(cg)
    assert total == sum(counted.values())
    assert any("population_grid_count" in s for s in log), log
    assert not any("count(*)" in s.lower() and "FROM resident" in s for s in log), log
    # A reader scoped to its grids counts its rows, as before.
    grid = await cg.post("{ residents(first: 1) { totalCount } }", role="grid_worker")
    assert grid.json()["data"]["residents"]["totalCount"] < total


async def test_a_bulk_load_with_the_counts_paused_is_counted_afresh(cg: Gateway) -> None:
    async with cg.runtime.databases.session("population") as session, counting_paused(session, [Resident]):
        session.add_all([Resident(**resident_row(100 + i, 5)) for i in range(4)])
        await session.commit()
    kept, counted = await kept_and_counted(cg)
    assert kept == counted
    total, _ = await _total(cg, True)
    assert total == sum(counted.values())
