"""The run's own database: created on the configured server, prepared by the gateway's own commands,
given PostGraphile's roles and row-level security, and dropped at the end with those roles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.compare.processes import BenchError

ROOT = Path(__file__).resolve().parents[2]
POSTGRAPHILE_SQL = Path(__file__).with_name("postgraphile.sql")
GATEWAY_SECRET = "bench-compare-secret-0123456789abcdef0123456789"


@dataclass(frozen=True)
class Database:
    """Where the run's data lives, and the facts of the demo data the pages are measured on."""

    url: str  # postgresql://… for asyncpg and node-postgres
    name: str
    grid_worker_grid: int
    grid_worker_street: int
    grid_worker_staff: int

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
        _gateway(["db", "upgrade"], url, log)
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
        _gateway(["db", "upgrade"], url, log)
        _gateway(population.seed_args(), url, log)
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
"""


async def _take_down(url: str, name: str) -> None:
    conn = await _connect(url)
    try:
        await conn.execute(_TAKE_DOWN)
        for role in ("analyst", "grid_worker", "card_owner"):
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
    out = _gateway(["token", "issue", "--principal", principal, "--ttl", "2h"], database.url, log)
    return out.strip().splitlines()[-1]


def _gateway(args: list[str], url: str, log: Path) -> str:
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
    for role in ("analyst", "grid_worker", "card_owner"):
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
    finally:
        await conn.close()
    if worker is None:
        raise BenchError("the demo grid worker (gridworker.demo) is missing from the seeded data")
    return Database(url, name, int(worker["grid"]), int(worker["street"]), int(worker["staff"]))
