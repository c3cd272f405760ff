"""A sixth domain, registered by the tests alone (``tests/extra_domain``), works with no change to
``gateway/``: its own database from ``GATEWAY_DB_URL_NOTICE``, its own migrations, its policy
lines checked and enforced, its root field and type in the schema and answering queries."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.data import create_engine, migrate
from gateway.kernel import Registry, Settings, load_registry
from gateway.pipeline import Runtime
from gateway.policy import load_and_check
from gateway.schema import build_schema, visible_fields
from resolvers.grid.tables import Grid
from tests import extra_domain
from tests.extra_domain import tables as t
from tests.harness import DEMO, Gateway, database_url
from tests.harness import test_settings as settings_for

BACKENDS = ["sqlite", "postgres"]
FIVE = load_registry()
SIX = replace(FIVE, domains=(*FIVE.domains, extra_domain.DOMAIN))
NOTICE = extra_domain.DOMAIN.name
# The engine's own migration history: its newest revision is where `heads` brings the five domains.
VERSIONS = Path(__file__).resolve().parents[1] / "gateway" / "data" / "migrations" / "versions"

# One role sees every field of a notice and counts them; a grid worker sees only titles, in its grid.
POLICY_LINES = {
    "city_analyst": '  Notice: {rows: city, fields: "*", aggregate: true}\n',
    "grid_worker": "  Notice: {rows: area, fields: [title]}\n",
}


def policies_with_notices(folder: Path, lines: dict[str, str] = POLICY_LINES) -> Path:
    """A copy of ``policies/`` with a line for ``Notice`` added to some roles' ``types``."""
    copy = folder / "policies"
    shutil.copytree(Path("policies"), copy)
    for role, line in lines.items():
        path = copy / "roles" / f"{role}.yaml"
        source = path.read_text()
        assert source.count("\ntypes:\n") == 1
        path.write_text(source.replace("\ntypes:\n", "\ntypes:\n" + line))
    return copy


def settings_with_notices(url: str, folder: Path, **overrides: Any) -> Settings:
    """Settings read while ``GATEWAY_DB_URL_NOTICE`` names a SQLite file of its own."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(f"GATEWAY_DB_URL_{NOTICE.upper()}", f"sqlite+aiosqlite:///{folder / 'notice.db'}")
        return settings_for(url, **overrides)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns(table)]))
    finally:
        await engine.dispose()


async def _version(url: str, name: str) -> str | None:
    """The revision a database's version table for ``name`` records, None without one."""
    if f"alembic_version_{name}" not in await _tables(url):
        return None
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(f"SELECT version_num FROM alembic_version_{name}"))).scalar()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def notice_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    folder = tmp_path_factory.mktemp(f"notice-{request.param}")
    with database_url(str(request.param), folder) as url:
        yield settings_with_notices(url, folder, policy_dir=policies_with_notices(folder))


@pytest.fixture(scope="module")
async def ng(notice_settings: Settings) -> AsyncIterator[Gateway]:
    """The demo gateway with the notice domain registered: one notice in the grid worker's
    grid, one elsewhere."""
    await asyncio.to_thread(migrate.upgrade, notice_settings, "heads", SIX)
    app = create_app(notice_settings, SIX)
    runtime: Runtime = app.state.runtime
    await SIX.seed(runtime.databases, 0, 0.0)
    worker = await runtime.directory.find(DEMO["grid_worker"])
    assert worker is not None and worker.area.grid_ids
    own = min(worker.area.grid_ids)
    async with runtime.databases.session("grid") as session:
        other = (await session.scalars(select(Grid.id).where(Grid.id.not_in(worker.area.grid_ids)))).first()
    async with runtime.databases.write_session(NOTICE) as session, session.begin():
        session.add(t.Notice(grid_id=own, title="楼道堆物清理", body="周六上午清理楼道", contact="13912348583"))
        session.add(t.Notice(grid_id=other, title="停水通知", body="周日 8:00-12:00 停水", contact="13800001111"))
    await runtime.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        gateway = Gateway(str(make_url(notice_settings.db_url).get_backend_name()), notice_settings, app, client)
        for role in ("city_analyst", "grid_worker"):
            gateway.tokens[role] = await runtime.tokens.issue(DEMO[role], timedelta(hours=1))
        try:
            yield gateway
        finally:
            await runtime.close()


async def test_its_own_database_comes_from_the_environment(ng: Gateway) -> None:
    notice_url = ng.settings.db_url_for(NOTICE)
    assert notice_url.endswith("/notice.db")
    assert ng.settings.db_url_for("population") == ng.settings.db_url != notice_url
    assert ng.runtime.databases.engine(NOTICE).url.database == make_url(notice_url).database
    # Its table and version table are in its own file, and nowhere else.
    assert {"notice", "alembic_version_notice"} <= await _tables(notice_url)
    assert not {"notice", "alembic_version_notice"} & await _tables(ng.settings.db_url)
    assert await _version(notice_url, NOTICE) == "notice_0002"


async def test_its_migrations_build_its_model(ng: Gateway) -> None:
    def diff(connection: Any) -> list[Any]:
        opts = {"compare_type": True, "version_table": f"alembic_version_{NOTICE}"}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, t.NoticeBase.metadata))

    engine = create_engine(ng.settings.db_url_for(NOTICE))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_its_rows_answer_through_the_app(ng: Gateway) -> None:
    # The notices exist only in notice.db: an answer is proof the statements went there.
    data = await ng.query("{ notices { totalCount nodes { title body contact } } }")
    assert data["notices"]["totalCount"] == 2
    assert {n["title"] for n in data["notices"]["nodes"]} == {"楼道堆物清理", "停水通知"}
    assert "13912348583" in {n["contact"] for n in data["notices"]["nodes"]}
    # The grid worker reads only its own grid's notice.
    data = await ng.query("{ notices { nodes { title } } }", role="grid_worker")
    assert data["notices"]["nodes"] == [{"title": "楼道堆物清理"}]


async def test_each_role_has_its_own_notice_type(ng: Gateway) -> None:
    introspect = '{ __type(name: "Notice") { fields { name } } }'
    full = await ng.query(introspect)
    assert {f["name"] for f in full["__type"]["fields"]} == {"id", "title", "body", "contact"}
    worker = await ng.query(introspect, role="grid_worker")
    assert {f["name"] for f in worker["__type"]["fields"]} == {"id", "title"}
    errors = await ng.errors("{ notices { nodes { body } } }", role="grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "body" in errors[0]["message"]
    # No count for a role whose line does not open one.
    errors = await ng.errors("{ notices { totalCount } }", role="grid_worker")
    assert "totalCount" in errors[0]["message"]


def test_an_empty_domain_url_falls_back_to_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_DB_URL", "sqlite+aiosqlite:///shared.db")
    monkeypatch.setenv("GATEWAY_DB_URL_NOTICE", "")
    monkeypatch.setenv("gateway_db_url_grid", "sqlite+aiosqlite:///grid.db")
    settings = Settings()
    assert settings.db_url_for(NOTICE) == settings.db_url_for("population") == "sqlite+aiosqlite:///shared.db"
    assert settings.db_url_for("grid") == "sqlite+aiosqlite:///grid.db"


def test_schema_from_the_registry_has_its_root_field_and_type() -> None:
    fields = visible_fields(build_schema(SIX.domains))
    assert "notices" in fields["Query"]
    assert fields["Notice"] == {"id", "title", "body", "contact"}
    assert "Notice" not in visible_fields(build_schema(FIVE.domains))


def _check(registry: Registry, folder: Path) -> list[str]:
    fields = visible_fields(build_schema(registry.domains))
    policies, problems = load_and_check(folder, registry.domains, registry.demo_principals.keys(), fields)
    assert policies is not None
    return problems


def test_its_policy_lines_are_checked(tmp_path: Path) -> None:
    folder = policies_with_notices(tmp_path / "good")
    assert _check(SIX, folder) == []
    # Without the domain registered, the same lines name an unknown type.
    assert any("Notice" in p for p in _check(FIVE, folder))
    bad = policies_with_notices(tmp_path / "bad", {"grid_worker": "  Notice: {rows: area, fields: [titel]}\n"})
    problems = _check(SIX, bad)
    assert any("grid_worker.yaml" in p and "titel" in p and "did you mean title" in p for p in problems), problems


# The engine history's newest revision: its files are numbered (0001_initial.py, …).
ENGINE_HEAD = max(
    p.name[:4]
    for p in (Path(__file__).resolve().parent.parent / "gateway" / "data" / "migrations" / "versions").glob("[0-9]*.py")
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_existing_database_upgrades_and_the_domain_migrates_on_its_own(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        settings = settings_with_notices(url, tmp_path)
        notice_url = settings.db_url_for(NOTICE)
        # A database of the five domains, some revisions behind.
        migrate.upgrade(settings, "0005", FIVE)
        assert asyncio.run(_version(url, "population")) == "0005"
        assert asyncio.run(_version(notice_url, NOTICE)) is None
        # A revision of the notice history moves that history alone.
        migrate.upgrade(settings, "notice_0001", SIX)
        assert asyncio.run(_version(notice_url, NOTICE)) == "notice_0001"
        assert asyncio.run(_version(url, "population")) == "0005"
        # `heads` brings every history up.
        migrate.upgrade(settings, "heads", SIX)
        assert asyncio.run(_version(notice_url, NOTICE)) == "notice_0002"
        assert {asyncio.run(_version(url, name)) for name in ("gateway", "population", "traffic")} == {ENGINE_HEAD}
        migrate.downgrade("notice_0001", settings, SIX)
        assert "contact" not in asyncio.run(_columns(notice_url, "notice"))
        assert asyncio.run(_version(url, "traffic")) == ENGINE_HEAD
        migrate.downgrade("base", settings, SIX)
        assert "notice" not in asyncio.run(_tables(notice_url))
        assert asyncio.run(_version(url, "traffic")) is None
