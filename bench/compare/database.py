"""The run's own database: created on the configured server, prepared by the gateway's own commands,
given PostGraphile's roles and row-level security, and dropped at the end with those roles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.compare.processes import BenchError
from resolvers.dispute.types import DisputeCategory
from resolvers.population.types import RegistrationKind
from resolvers.traffic.types import AlertKind

ROOT = Path(__file__).resolve().parents[2]
POSTGRAPHILE_SQL = Path(__file__).with_name("postgraphile.sql")
# PostGraphile's roles, each named {database}_{role} (see postgraphile.sql).
ROLES = ("analyst", "grid_worker", "card_owner", "officer", "committee")
GATEWAY_SECRET = "bench-compare-secret-0123456789abcdef0123456789"


@dataclass(frozen=True)
class Area:
    """A demo principal's staff id and grids, resolved from the data as the gateway resolves them."""

    staff: int
    grids: tuple[int, ...]  # its own area
    street_grids: tuple[int, ...]  # the street(s) its area lies in


@dataclass(frozen=True)
class Database:
    """Where the run's data lives, and the facts of the demo data the pages are measured on."""

    url: str  # postgresql://… for asyncpg and node-postgres
    name: str
    grid_worker_grid: int
    grid_worker_street: int
    grid_worker_staff: int
    officer: Area
    committee: Area

    @property
    def gateway_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+asyncpg://", 1)

    @property
    def role_prefix(self) -> str:
        return self.name


def plain_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if not scheme.startswith(("postgresql", "postgres")):
        raise BenchError(f"GATEWAY_BENCH_POSTGRES_URL must be a PostgreSQL URL, not {url!r}")
    return "postgresql://" + rest


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@dataclass(frozen=True)
class Population:
    """What the run seeds: synthetic residents, or the whole city (a fraction of it) by COPY."""

    residents: int
    city_scale: float = 0.0

    def seed_args(self) -> list[str]:
        if self.city_scale > 0:
            return ["seed", "--city", "--scale", str(self.city_scale)]
        return ["seed", "--residents", str(self.residents)]

    def __str__(self) -> str:
        if self.city_scale > 0:
            return f"the city ({self.city_scale:g} × 13.6 million residents, `gateway seed --city`)"
        return f"{self.residents:,} synthetic residents"


@contextlib.contextmanager
def prepared(server_url: str, population: Population, log: Path, existing: str | None = None) -> Iterator[Database]:
    """Create a database on ``server_url``, prepare it, yield it, and drop it (and its roles) afterwards.

    ``existing`` names a database prepared before (``gateway db upgrade`` and ``gateway seed --city``,
    which take a while at city scale): it is used as it is, and only PostGraphile's side is set up
    and taken down again."""
    admin = plain_url(server_url)
    if existing is not None:
        url = with_database(admin, existing)
        run_gateway(["db", "upgrade"], url, log)
        asyncio.run(_take_down(url, existing))
        try:
            yield asyncio.run(_postgraphile_side(url, existing))
        finally:
            asyncio.run(_take_down(url, existing))
        return
    name = f"bench_compare_{os.getpid()}"
    asyncio.run(_create(admin, name))
    try:
        url = with_database(admin, name)
        run_gateway(["db", "upgrade"], url, log)
        run_gateway(population.seed_args(), url, log)
        yield asyncio.run(_postgraphile_side(url, name))
    finally:
        asyncio.run(_drop(admin, name))


# PostGraphile's side of a database kept between runs, removed so that it can be set up again.
_TAKE_DOWN = """
DROP VIEW IF EXISTS resident_card;
DROP POLICY IF EXISTS analyst_all ON resident; DROP POLICY IF EXISTS analyst_all ON household;
DROP POLICY IF EXISTS analyst_all ON dispute; DROP POLICY IF EXISTS own_grid ON resident;
DROP POLICY IF EXISTS own_grid ON household; DROP POLICY IF EXISTS own_grid ON dispute;
ALTER TABLE resident DISABLE ROW LEVEL SECURITY; ALTER TABLE household DISABLE ROW LEVEL SECURITY;
ALTER TABLE dispute DISABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS age_band(date); DROP FUNCTION IF EXISTS bench_grid();
DROP POLICY IF EXISTS officer_area ON plate_alert; DROP POLICY IF EXISTS officer_area ON guest_check_in;
DROP POLICY IF EXISTS officer_area ON resident_registration; DROP POLICY IF EXISTS officer_area ON resident;
DROP POLICY IF EXISTS officer_area ON dog_licence; DROP POLICY IF EXISTS officer_area ON dispute;
DROP POLICY IF EXISTS committee_area ON resident; DROP POLICY IF EXISTS committee_street ON dispute;
ALTER TABLE plate_alert DISABLE ROW LEVEL SECURITY; ALTER TABLE guest_check_in DISABLE ROW LEVEL SECURITY;
ALTER TABLE resident_registration DISABLE ROW LEVEL SECURITY; ALTER TABLE dog_licence DISABLE ROW LEVEL SECURITY;
DROP FUNCTION IF EXISTS officer_tasks(), task_list(integer[], integer), resident_stats(), dispute_stats(),
  grid_stats(), resident_counts(integer[]), dispute_counts(integer[]), grid_counts(), age_band_of(integer),
  bench_grids(), bench_street_grids(), bench_staff();
DROP TYPE IF EXISTS task_row; DROP TYPE IF EXISTS stat_count; DROP TABLE IF EXISTS category_label;
"""


async def _take_down(url: str, name: str) -> None:
    conn = await _connect(url)
    try:
        await conn.execute(_TAKE_DOWN)
        for role in ROLES:
            # A role holding grants in the kept database must give them up before it can go.
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", f"{name}_{role}"):
                await conn.execute(f'DROP OWNED BY "{name}_{role}" CASCADE')
        await _drop_roles(conn, name)
    finally:
        await conn.close()


def gateway_env(database: Database) -> dict[str, str]:
    return {
        "GATEWAY_DB_URL": database.gateway_url,
        "GATEWAY_SECRET_KEY": GATEWAY_SECRET,
        "GATEWAY_POLICY_DIR": str(ROOT / "policies"),
        # The compared pages (50 × 50 and more) are far beyond the shipped cost limit, on purpose.
        "GATEWAY_MAX_COST": str(10**7),
        "GATEWAY_HEAVY_COST": str(10**7),
        "GATEWAY_OPERATION_TIMEOUT": "0",
    }


def gateway_token(database: Database, principal: str, log: Path) -> str:
    out = run_gateway(["token", "issue", "--principal", principal, "--ttl", "2h"], database.url, log)
    return out.strip().splitlines()[-1]


def run_gateway(args: list[str], url: str, log: Path) -> str:
    env = {**os.environ, "GATEWAY_DB_URL": url.replace("postgresql://", "postgresql+asyncpg://", 1)}
    env["GATEWAY_SECRET_KEY"] = GATEWAY_SECRET
    done = subprocess.run(
        [str(ROOT / ".venv/bin/gateway"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    with log.open("a") as out:
        out.write(f"$ gateway {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise BenchError(f"gateway {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


async def analyzed(url: str, tables: tuple[str, ...]) -> None:
    conn = await _connect(url)
    try:
        await conn.execute("ANALYZE " + ", ".join(f'"{table}"' for table in tables))
    finally:
        await conn.close()


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(
            f"cannot reach PostgreSQL at {url} ({error}); start it, or set GATEWAY_BENCH_POSTGRES_URL "
            "to a server where this user may create databases and roles"
        ) from None


async def _create(admin: str, name: str) -> None:
    conn = await _connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _drop_roles(conn, name)
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop(admin: str, name: str) -> None:
    conn = await _connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _drop_roles(conn, name)
    finally:
        await conn.close()


async def _drop_roles(conn: asyncpg.Connection, prefix: str) -> None:
    # Once the database is gone, the roles own nothing and hold no grants anywhere else.
    for role in ROLES:
        await conn.execute(f'DROP ROLE IF EXISTS "{prefix}_{role}"')


async def _postgraphile_side(url: str, name: str) -> Database:
    conn = await _connect(url)
    try:
        await conn.execute(POSTGRAPHILE_SQL.read_text().replace("{prefix}", name))
        worker = await conn.fetchrow(
            "SELECT s.id AS staff, s.grid_id AS grid, c.street_id AS street FROM staff s "
            "JOIN grid g ON g.id = s.grid_id JOIN community c ON c.id = g.community_id "
            "WHERE s.principal_id = 'gridworker.demo'"
        )
        await conn.executemany("INSERT INTO category_label VALUES ($1, $2, $3, $4)", category_labels())
        officer = await _area(conn, "police.demo")
        committee = await _area(conn, "committee.demo")
    finally:
        await conn.close()
    if worker is None:
        raise BenchError("the demo grid worker (gridworker.demo) is missing from the seeded data")
    return Database(url, name, int(worker["grid"]), int(worker["street"]), int(worker["staff"]), officer, committee)


# A staff principal's area as the gateway resolves it: its police grid's bound grids, or its
# community's, or its grid; and the grids of the street(s) those lie in.
_AREA = """
WITH own AS (
  SELECT b.grid_id AS id FROM staff s JOIN grid_binding b ON b.police_grid_id = s.police_grid_id
  WHERE s.principal_id = $1
  UNION SELECT g.id FROM staff s JOIN grid g ON g.community_id = s.community_id WHERE s.principal_id = $1
  UNION SELECT s.grid_id FROM staff s WHERE s.principal_id = $1 AND s.grid_id IS NOT NULL)
SELECT (SELECT id FROM staff WHERE principal_id = $1) AS staff,
  (SELECT array_agg(id ORDER BY id) FROM own) AS grids,
  (SELECT array_agg(g.id ORDER BY g.id) FROM grid g JOIN community c ON c.id = g.community_id
   WHERE c.street_id IN (SELECT c2.street_id FROM own JOIN grid g2 ON g2.id = own.id
                         JOIN community c2 ON c2.id = g2.community_id)) AS street_grids
"""


async def _area(conn: asyncpg.Connection, principal: str) -> Area:
    row = await conn.fetchrow(_AREA, principal)
    if row is None or row["staff"] is None or not row["grids"]:
        raise BenchError(f"the demo principal {principal} or its area is missing from the seeded data")
    return Area(int(row["staff"]), tuple(row["grids"]), tuple(row["street_grids"] or ()))


def category_labels() -> list[tuple[str, str, str, str]]:
    """(category, value, 中文, English) of the categories task titles name, from the gateway's enums."""
    enums: dict[str, type[Enum]] = {"alert": AlertKind, "dispute": DisputeCategory, "registration": RegistrationKind}
    labels = []
    for category, enum in enums.items():
        for value in enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
            zh, _, en = str(value.description).partition(" / ")
            labels.append((category, str(value.value), zh, en or zh))
    return labels
