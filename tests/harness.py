"""A gateway on a fresh, migrated, seeded database, and a client that speaks to it as a principal."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.data import migrate, statement_log
from gateway.kernel import Settings, load_registry
from gateway.pipeline import Runtime

SECRET = "test-secret-key-0123456789abcdef0123456789"
ON_CI = os.environ.get("CI") == "true"


def require(reason: str) -> None:
    """Skip for a missing service or tool, except on CI, where it must be there."""
    if ON_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


async def redis_url() -> str:
    """The test Redis (``GATEWAY_TEST_REDIS_URL``, else the local one), or skip (fail under CI)."""
    url = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis.asyncio as redis

    client = redis.from_url(url)
    try:
        await client.ping()
    except Exception as error:
        require(f"Redis at {url} is unreachable: {error}")
    finally:
        await client.aclose()
    return url


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    base = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
    if not base:
        require("GATEWAY_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    assert base is not None
    name = f"gw_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    except OSError as error:
        require(f"PostgreSQL at {base} is unreachable: {error}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database_url(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'gateway.db'}"
    else:
        with postgres_database() as url:
            yield url


def test_settings(url: str, **overrides: Any) -> Settings:
    # The suite reads pages far beyond the default cost (100 × 100, to count statements); the limits
    # themselves are tested on a gateway with the default settings (tests/test_document_limits.py).
    # One test process starts hundreds of gateways: freezing each one's heap would keep it for good.
    values: dict[str, Any] = {
        "db_url": url,
        "secret_key": SECRET,
        "principal_cache_seconds": 0,
        "max_cost": 10**7,
        "gc_freeze": False,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Gateway:
    """A running app (in-process ASGI) with one token per demo role."""

    backend: str
    settings: Settings
    app: Starlette
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        role: str | None = "city_analyst",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if role is not None:
            sent["Authorization"] = f"Bearer {self.tokens[role]}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables}, headers=sent)

    async def query(self, query: str, variables: dict[str, Any] | None = None, role: str = "city_analyst") -> Any:
        """Run a query that must succeed; return its data."""
        response = await self.post(query, variables, role)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(self, query: str, variables: dict[str, Any] | None = None, role: str = "city_analyst") -> Any:
        """Run a query that must fail; return its errors."""
        response = await self.post(query, variables, role)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]

    async def count_statements(self, query: str, variables: dict[str, Any] | None = None) -> tuple[int, Any]:
        log: list[str] = []
        token = statement_log.set(log)
        try:
            data = await self.query(query, variables)
        finally:
            statement_log.reset(token)
        return len(log), data


@asynccontextmanager
async def running_gateway(backend: str, url: str, residents: int = 0, **overrides: Any) -> AsyncIterator[Gateway]:
    settings = test_settings(url, **overrides)
    await asyncio.to_thread(migrate.upgrade, settings)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    await load_registry().seed(runtime.databases, residents, 0.0)
    await runtime.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        gateway = Gateway(backend, settings, app, client)
        for record in await runtime.directory.all():
            if record.id in DEMO.values():
                gateway.tokens[record.role] = await runtime.tokens.issue(record.id, timedelta(hours=1), record.scopes)
        try:
            yield gateway
        finally:
            await runtime.close()


DEMO = dict(load_registry().demo_principals)


def report_input(grid: str, title: str) -> dict[str, Any]:
    """A ``ReportDisputeInput`` in ``grid`` with two parties, one a phone-holding non-resident."""
    return {
        "title": title,
        "category": "NEIGHBOUR",
        "description": "两户因噪音争执 / a quarrel over noise",
        "gridId": grid,
        "parties": [
            {"role": "COMPLAINANT", "name": "王秀英", "phone": "13812345678"},
            {"role": "RESPONDENT", "name": "赵大海"},
        ],
    }
