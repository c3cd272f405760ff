"""The fast paths hold what the slow ones held: a full driver pool is a 503, concurrent reads and
writes keep the audit chain and the outbox whole, a write rolled back leaves no event, a URL with
SQLAlchemy's own asyncpg options still serves, and no cache keeps what a caller sent only to fill it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import text

from gateway.data import migrate
from tests.harness import postgres_database, running_gateway
from tests.test_audit_writes import _input as _report


@pytest.fixture
def pg_url() -> Any:
    with postgres_database() as url:
        yield url


def only_error(response: Any) -> dict[str, Any]:
    (error,) = response.json()["errors"]
    return dict(error)


async def test_pg_driver_pool_full_is_503(pg_url: str) -> None:
    """A compiled read whose driver pool is full answers 503 UNAVAILABLE, never 500."""
    url = pg_url
    async with running_gateway(
        "postgresql", url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.3, principal_cache_seconds=60
    ) as gw:
        assert await gw.query("{ residents(first: 2) { nodes { name } } }", role="grid_worker")
        driver = gw.runtime.databases.driver("population")
        assert driver is not None
        async with driver.connection():
            response = await gw.post("{ residents(first: 2) { nodes { name } } }", role="grid_worker")
            assert response.status_code == 503, response.text
            assert only_error(response)["extensions"] == {"code": "UNAVAILABLE"}


REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id } }
}
"""


async def test_pg_concurrent_reads_and_writes_keep_chain_and_outbox(pg_url: str) -> None:
    """Reads (group commits on the driver) and writes (in-session appends, outbox at commit) at once:
    the chain verifies, every dispute has exactly one outbox event, none for a rolled-back write."""
    from sqlalchemy import func, select

    from resolvers.dispute import tables as t

    async with running_gateway("postgresql", pg_url, residents=20) as gw:
        data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
        grid = str(data["residents"]["nodes"][0]["grid"]["id"])

        async def counts() -> tuple[int, int]:
            async with gw.runtime.databases.session("dispute") as session:
                disputes = (await session.execute(select(func.count(t.Dispute.id)))).scalar_one()
                events = (await session.execute(select(func.count(t.DisputeOutbox.id)))).scalar_one()
            return int(disputes), int(events)

        before = await counts()
        reads = [
            gw.post("{ residents(first: 3) { totalCount nodes { name idNumber } } }", role=role)
            for role in ("city_analyst", "grid_worker", "committee_staff", "police") * 6
            if role in gw.tokens
        ]
        writes = [gw.post(REPORT, {"input": _report(grid, f"n{i}")}, role="committee_staff") for i in range(10)]
        responses = await asyncio.gather(*reads, *writes)
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
        report = await gw.runtime.audit.verify()
        assert report.ok, report
        after = await counts()
        assert after[0] - before[0] == 10 and after[1] - before[1] == 10, (before, after)


async def test_probe_cache_does_not_pin_request_variables(tmp_path: Path) -> None:
    """The per-process probe cache keys on the whole variables JSON, unused variables included, and
    keeps 1024 entries: any token holder pins ~1024 x max_body_bytes (about 1 GB per worker at the
    default 1 MiB body limit) by sending `{ me { id } }` with a large, distinct, unused variable.
    The probes only depend on the variables the operation uses: the cache must not keep the rest."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    async with running_gateway("sqlite", url) as gw:
        gw.runtime.probes.clear()
        pad = 200_000
        for i in range(12):
            response = await gw.post("{ me { id } }", {"pad": f"{i}" + "x" * pad}, role="grid_worker")
            assert response.status_code == 200, response.text
        kept = sum(len(str(part)) for key in gw.runtime.probes for part in cast(tuple[Any, ...], key))
        assert kept < pad, f"{kept} bytes of request variables kept by the probe cache"


async def test_pg_no_outbox_event_for_a_write_rolled_back_by_its_audit(pg_url: str) -> None:
    """A write that emitted, then failed to write its audit record, leaves no outbox event."""
    from sqlalchemy import func, select

    from resolvers.dispute import tables as t

    fail = (
        "CREATE FUNCTION gateway_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit down'; END $$",
        "CREATE TRIGGER gateway_audit_down BEFORE INSERT ON gateway_audit FOR EACH ROW "
        "EXECUTE FUNCTION gateway_audit_down()",
    )
    async with running_gateway("postgresql", pg_url, residents=5) as gw:
        data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
        grid = str(data["residents"]["nodes"][0]["grid"]["id"])

        async def events() -> int:
            async with gw.runtime.databases.session("dispute") as session:
                return int((await session.execute(select(func.count(t.DisputeOutbox.id)))).scalar_one())

        before = await events()
        async with gw.runtime.databases.write_session("dispute") as session, session.begin():
            for statement in fail:
                await session.execute(text(statement))
        response = await gw.post(REPORT, {"input": _report(grid, "rolled back")}, role="committee_staff")
        assert response.status_code == 503, response.text
        assert await events() == before
        async with gw.runtime.databases.write_session("dispute") as session, session.begin():
            await session.execute(text("DROP TRIGGER gateway_audit_down ON gateway_audit"))
        ok = await gw.post(REPORT, {"input": _report(grid, "after")}, role="committee_staff")
        assert "errors" not in ok.json(), ok.text
        assert await events() == before + 1
        assert (await gw.runtime.audit.verify()).ok


async def test_pg_url_with_sqlalchemy_asyncpg_options_still_serves(pg_url: str) -> None:
    """`?prepared_statement_cache_size=0` is SQLAlchemy's documented asyncpg option (PgBouncer). The
    engine takes it; the driver pool hands the URL's query to asyncpg, which sends it as a server
    setting: every connection is refused, every audit append fails, every request is withheld."""
    async with running_gateway("postgresql", pg_url + "?prepared_statement_cache_size=0") as gw:
        response = await gw.post("{ residents(first: 2) { nodes { name } } }", role="grid_worker")
        assert response.status_code == 200, response.text


async def test_startup_heap_is_frozen_out_of_the_collector(tmp_path: Path) -> None:
    """GATEWAY_GC_FREEZE (on by default): once the app has started, what startup made is frozen, so a
    large page's garbage collections do not walk the schemas and policies again and again."""
    import gc

    from gateway.app import create_app
    from tests.harness import test_settings

    settings = test_settings(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", gc_freeze=True)
    await asyncio.to_thread(migrate.upgrade, settings)
    app = create_app(settings)
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


async def test_pg_resolver_reads_run_outside_a_transaction_block(pg_url: str) -> None:
    """`Databases.read_session` (the resolvers' one-statement reads): no BEGIN/ROLLBACK around them on
    PostgreSQL, so each statement is its own transaction; an ordinary session keeps one for all."""
    from gateway.data import Databases
    from gateway.kernel import Settings

    databases = Databases(Settings(db_url=pg_url), ("gateway",))

    async def two_nows(session: Any) -> tuple[Any, Any]:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.01)
        return first, (await session.execute(text("SELECT now()"))).scalar_one()

    try:
        async with databases.read_session("gateway") as session:
            first, second = await two_nows(session)
            assert first != second, "each read is a transaction of its own"
        async with databases.session("gateway") as session:
            first, second = await two_nows(session)
            assert first == second, "an ordinary session reads in one transaction"
    finally:
        await databases.dispose()
