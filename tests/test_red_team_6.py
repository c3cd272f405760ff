"""Red-team pass 6 (the speed work of 2026-12-03): what it found, held by tests.

Whole-city counts (gateway.data.counts): a bulk load pauses the count triggers with a committed
``ALTER TABLE … DISABLE TRIGGER`` and turns them on again (and counts afresh) only when it ends. A load
that never ends — killed, out of memory, its connection lost — left them off for good: every resident
registered, moved or removed afterwards was missing from ``totalCount`` of a whole-city reader, with
nothing to notice or repair it. The gateway now turns them on again and counts afresh when it starts.

The count trigger of a move took the new grid's row, then the old one's: two residents moved at the same
moment in opposite directions between the same two grids deadlocked, and PostgreSQL aborted one of the
writes. A move now takes the two rows in the order of their keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.data import counting_paused
from resolvers.population.tables import Resident
from tests.harness import Gateway, database_url, running_gateway
from tests.test_row_counts import resident_row

TOTAL = "{ residents(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
def killed_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    if backend != "postgres":
        pytest.skip("the count triggers are paused only on PostgreSQL")
    with database_url(backend, Path(tmp_path_factory.mktemp("killed"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def kg(killed_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*killed_url, residents=100) as gateway:
        yield gateway


async def _rows(gw: Gateway) -> int:
    async with gw.runtime.databases.session("population") as session:
        return int((await session.execute(select(func.count()).select_from(Resident))).scalar_one())


async def _totals(app: Any, token: str) -> list[int]:
    """totalCount of the whole city as the analyst reads it, compiled and through the resolvers."""
    runtime = app.state.runtime
    found = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        for compiled in (True, False):
            before, runtime.settings.compiled_reads = runtime.settings.compiled_reads, compiled
            try:
                reply = await client.post(
                    "/graphql", json={"query": TOTAL}, headers={"Authorization": f"Bearer {token}"}
                )
            finally:
                runtime.settings.compiled_reads = before
            found.append(int(reply.json()["data"]["residents"]["totalCount"]))
    return found


async def test_a_bulk_load_killed_while_the_counts_were_paused_does_not_leave_them_wrong(kg: Gateway) -> None:
    # A city seed that paused the counts and died before it could resume them (no __aexit__ ever runs).
    async with kg.runtime.databases.session("population") as session:
        paused = counting_paused(session, [Resident])
        await paused.__aenter__()
    # The gateway goes on registering residents.
    async with kg.runtime.databases.write_session("population") as session, session.begin():
        session.add_all([Resident(**resident_row(i, grid)) for i, grid in enumerate([1, 2, 2])])
    rows = await _rows(kg)
    # The next start of the gateway (a restart after the failed load) must count every row again.
    app = create_app(kg.settings)
    await app.state.runtime.start()
    try:
        assert await _totals(app, kg.tokens["city_analyst"]) == [rows, rows]
        # And from then on keeps counting: a resident registered after the start is counted too.
        async with kg.runtime.databases.write_session("population") as session, session.begin():
            session.add(Resident(**resident_row(9, 3)))
        assert await _totals(app, kg.tokens["city_analyst"]) == [rows + 1, rows + 1]
    finally:
        await app.state.runtime.close()


async def test_moves_in_opposite_directions_at_once_do_not_deadlock_on_the_counts(kg: Gateway) -> None:
    url = make_url(kg.settings.db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    setup = await asyncpg.connect(url)
    try:
        first = await setup.fetchval("SELECT min(id) FROM resident WHERE grid_id = 1")
        second = await setup.fetchval("SELECT min(id) FROM resident WHERE grid_id = 2")
    finally:
        await setup.close()
    deadlocks, moves, until = 0, 0, time.monotonic() + 4

    async def shuttle(resident: int, there: int, back: int) -> None:
        nonlocal deadlocks, moves
        conn = await asyncpg.connect(url)
        try:
            going = True
            while time.monotonic() < until:
                try:
                    await conn.execute(
                        "UPDATE resident SET grid_id = $1 WHERE id = $2", there if going else back, resident
                    )
                    going, moves = not going, moves + 1
                except asyncpg.DeadlockDetectedError:
                    deadlocks += 1
            await conn.execute("UPDATE resident SET grid_id = $1 WHERE id = $2", back, resident)
        finally:
            await conn.close()

    # One resident shuttles 1 → 2 → 1 …, the other 2 → 1 → 2 … at the same time.
    await asyncio.gather(shuttle(first, 2, 1), shuttle(second, 1, 2))
    assert moves > 100
    assert deadlocks == 0
    rows = await _rows(kg)
    app = kg.app
    assert await _totals(app, kg.tokens["city_analyst"]) == [rows, rows]
