"""Counts over the whole city read the number of rows the counts table keeps (gateway.data.counts),
which the database's triggers keep exact: after inserts, deletes, moves to another grid and a bulk load
alike. On PostgreSQL the count is changed at commit, under the commit-order lock: writers do not wait
for each other's open transactions on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from gateway.data import Databases, counting_paused, statement_log
from gateway.data.order import COMMIT_ORDER_KEY
from resolvers.population.tables import PopulationRowCount, Resident
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


async def kept_and_counted(databases: Databases) -> tuple[int, int]:
    """Residents as the counts table keeps them, and as counting the rows finds them."""
    async with databases.session("population") as session:
        kept = await session.scalar(select(PopulationRowCount.n).where(PopulationRowCount.table_name == "resident"))
        counted = await session.scalar(select(func.count()).select_from(Resident))
        return int(kept or 0), int(counted or 0)


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
    kept, counted = await kept_and_counted(cg.runtime.databases)
    assert kept == counted > 300
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
    kept, after = await kept_and_counted(cg.runtime.databases)
    assert kept == after == counted + 5 - 1


@pytest.mark.parametrize("compiled", [True, False])
async def test_the_whole_city_count_reads_the_counts_and_agrees(cg: Gateway, compiled: bool) -> None:
    total, log = await _total(cg, compiled)
    _, counted = await kept_and_counted(cg.runtime.databases)
    assert total == counted
    assert any("population_row_count" in s for s in log), log
    assert not any("count(*)" in s.lower() and "FROM resident" in s for s in log), log
    # A reader scoped to its grids counts its rows, as before.
    grid = await cg.post("{ residents(first: 1) { totalCount } }", role="grid_worker")
    assert grid.json()["data"]["residents"]["totalCount"] < total


async def test_a_bulk_load_with_the_counts_paused_is_counted_afresh(cg: Gateway) -> None:
    async with cg.runtime.databases.session("population") as session, counting_paused(session, [Resident]):
        session.add_all([Resident(**resident_row(100 + i, 5)) for i in range(4)])
        await session.commit()
    kept, counted = await kept_and_counted(cg.runtime.databases)
    assert kept == counted
    total, _ = await _total(cg, True)
    assert total == counted


def _insert(number: int, grid: int, name: str = "计数") -> str:
    """SQL inserting a test resident, for writers on the driver itself."""
    row = {**resident_row(number, grid), "name": name}
    for column in Resident.__table__.columns:
        if column.key not in row and column.default is not None and column.default.is_scalar:
            row[column.key] = column.default.arg
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(insert(Resident).values(row).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _driver_url(gw: Gateway) -> str:
    return make_url(gw.settings.db_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_writer_does_not_wait_for_another_open_transaction_on_the_count(cg: Gateway) -> None:
    if cg.backend != "postgres":
        pytest.skip("SQLite has one writer at a time")
    url = _driver_url(cg)
    _, before = await kept_and_counted(cg.runtime.databases)
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        opened = first.transaction()
        await opened.start()
        await first.execute(_insert(9001, 1))
        await first.execute("DELETE FROM resident WHERE id = (SELECT min(id) FROM resident WHERE grid_id = 2)")
        # With the count changed at once, the second writer would wait for the first to end.
        async with second.transaction():
            await asyncio.wait_for(second.execute(_insert(9002, 1)), 5)
        kept, counted = await kept_and_counted(cg.runtime.databases)
        assert kept == counted == before + 1
        await opened.commit()
    finally:
        await first.close()
        await second.close()
    kept, counted = await kept_and_counted(cg.runtime.databases)
    assert kept == counted == before + 1


async def test_the_count_is_changed_at_commit_under_the_commit_order_lock(cg: Gateway) -> None:
    if cg.backend != "postgres":
        pytest.skip("SQLite has one writer at a time")
    url = _driver_url(cg)
    holder, writer = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        held = holder.transaction()
        await held.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", COMMIT_ORDER_KEY)
        written = writer.transaction()
        await written.start()
        await writer.execute("DELETE FROM resident WHERE id = (SELECT max(id) FROM resident)")
        # The delete itself did not wait; its commit takes its turn behind the lock's holder.
        committing = asyncio.create_task(written.commit())
        await asyncio.sleep(0.5)
        assert not committing.done()
        await held.rollback()
        await asyncio.wait_for(committing, 5)
    finally:
        await holder.close()
        await writer.close()
    kept, counted = await kept_and_counted(cg.runtime.databases)
    assert kept == counted


async def test_concurrent_writers_keep_the_count_exact(cg: Gateway) -> None:
    if cg.backend != "postgres":
        pytest.skip("SQLite has one writer at a time")
    url = _driver_url(cg)

    async def writer(n: int) -> None:
        def number(round_: int, k: int) -> int:
            return 2000 + n * 1000 + round_ * 10 + k

        conn = await asyncpg.connect(url)
        try:
            for round_ in range(15):
                # Three residents in, and one of the round before out, in grids shared with other writers.
                async with conn.transaction():
                    for k in range(3):
                        await conn.execute(_insert(number(round_, k), 1 + n % 3, "并发"))
                    if round_:
                        earlier = resident_row(number(round_ - 1, 0), 0)["id_number"]
                        assert await conn.execute("DELETE FROM resident WHERE id_number = $1", earlier) == "DELETE 1"
        finally:
            await conn.close()

    _, before = await kept_and_counted(cg.runtime.databases)
    await asyncio.gather(*(writer(n) for n in range(6)))
    kept, counted = await kept_and_counted(cg.runtime.databases)
    assert kept == counted == before + 6 * (15 * 3 - 14)
