"""Red-team pass 6 (the speed work of 2026-12-03): what it found, held by tests.

Whole-city counts (gateway.data.counts): a bulk load pauses the count triggers with a committed
``ALTER TABLE … DISABLE TRIGGER`` and turns them on again (and counts afresh) only when it ends. A load
that never ends — killed, out of memory, its connection lost — left them off for good: every resident
registered, moved or removed afterwards was missing from ``totalCount`` of a whole-city reader, with
nothing to notice or repair it. The gateway now turns them on again and counts afresh when it starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.data import counting_paused
from resolvers.population.tables import Resident
from tests.harness import Gateway, database_url, running_gateway

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


def _resident(number: int, grid: int) -> dict[str, Any]:
    return {
        "id_number": f"12010119900102{number:04d}",
        "name": f"中断{number}",
        "gender": "女",
        "birth_date": date(1990, 1, 2),
        "address": "测试路2号",
        "building": "2号楼",
        "grid_id": grid,
        "household_id": None,
        "registration_kind": "registered",
        "status": "active",
        "registered_at": datetime(2026, 1, 1, tzinfo=UTC),
    }


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
        session.add_all([Resident(**_resident(i, grid)) for i, grid in enumerate([1, 2, 2])])
    rows = await _rows(kg)
    # The next start of the gateway (a restart after the failed load) must count every row again.
    app = create_app(kg.settings)
    await app.state.runtime.start()
    try:
        assert await _totals(app, kg.tokens["city_analyst"]) == [rows, rows]
        # And from then on keeps counting: a resident registered after the start is counted too.
        async with kg.runtime.databases.write_session("population") as session, session.begin():
            session.add(Resident(**_resident(9, 3)))
        assert await _totals(app, kg.tokens["city_analyst"]) == [rows + 1, rows + 1]
    finally:
        await app.state.runtime.close()
