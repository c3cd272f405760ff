"""Database sources: one async engine per distinct URL, one session factory per domain.

Each domain owns a ``MetaData`` and may live in its own database; the engine never joins
across domains in SQL, so any mix of SQLite and PostgreSQL URLs works.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, exc
from sqlalchemy.engine import Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from gateway.data.driver import DriverPool, Ready, ready, statement_log
from gateway.kernel import Settings

# No connection of the pool came free within ``GATEWAY_DB_POOL_TIMEOUT``: the gateway is overloaded.
PoolExhausted = exc.TimeoutError


def _count_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    log = statement_log.get()
    # Transaction control is not a query; counting it would make SQLite and PostgreSQL differ.
    if log is not None and not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
        log.append(statement)


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    # SQLAlchemy, not the driver, begins transactions (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITE = "gateway_write"


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes SQLite's write lock when it begins, not at its first write,
    # so a read-check-write (a version check) cannot interleave with another writer's.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


# A pooled connection idle this long is checked before use; a busy one never is.
IDLE_SECONDS = 10.0
_LAST_USED = "gateway_last_used"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Instead of a ping on every checkout (a round trip per statement under load), ping only a
    connection that sat idle: a dead one (a restarted server, a dropped link) is then replaced
    by the pool itself, which retries the checkout with a fresh connection."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None or time.monotonic() - last < IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("an idle connection was dead") from error
        if not alive:
            raise exc.DisconnectionError("an idle connection was dead")

    event.listen(pool, "checkin", checkin)
    event.listen(pool, "checkout", checkout)


def create_engine(url: str, echo: bool = False, **pool: Any) -> AsyncEngine:
    """An engine for ``url``; ``pool`` sizes its connection pool (pool_size, max_overflow, pool_timeout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        pool = {}  # one connection, shared: no pool to size
    # hide_parameters: a failed statement's exception (and a log of it) never carries the values.
    engine = create_async_engine(url, echo=echo, hide_parameters=True, **pool)
    if parsed.get_backend_name() != "sqlite":
        _ping_when_idle(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


class Databases:
    """The engines of all domains, shared between domains that name the same URL."""

    def __init__(self, settings: Settings, domains: Iterable[str]) -> None:
        self._engines: dict[str, AsyncEngine] = {}
        self._by_domain: dict[str, AsyncEngine] = {}
        self._sessions: dict[str, async_sessionmaker[AsyncSession]] = {}
        self._writers: dict[str, async_sessionmaker[AsyncSession]] = {}
        self._readers: dict[str, async_sessionmaker[AsyncSession]] = {}
        self._drivers: dict[str, DriverPool] = {}
        self._driver_by_domain: dict[str, DriverPool] = {}
        self._kept: dict[tuple[str, Callable[..., Any], tuple[Any, ...]], Ready] = {}
        for domain in domains:
            url = settings.db_url_for(domain)
            if url not in self._engines:
                self._engines[url] = create_engine(
                    url,
                    settings.db_echo,
                    pool_size=settings.db_pool_size,
                    max_overflow=settings.db_max_overflow,
                    pool_timeout=settings.db_pool_timeout,
                )
                if make_url(url).get_driver_name() == "asyncpg":
                    size = settings.db_pool_size + settings.db_max_overflow
                    self._drivers[url] = DriverPool(self._engines[url], size, settings.db_pool_timeout)
            self._by_domain[domain] = self._engines[url]
            if url in self._drivers:
                self._driver_by_domain[domain] = self._drivers[url]
            engine = self._engines[url]
            self._sessions[domain] = async_sessionmaker(engine, expire_on_commit=False)
            writer = engine.execution_options(**{WRITE: True})
            self._writers[domain] = async_sessionmaker(writer, expire_on_commit=False)
            # A read of one statement needs no transaction block: on PostgreSQL, BEGIN and ROLLBACK
            # would be two round trips around it.
            alone = engine.execution_options(isolation_level="AUTOCOMMIT") if url in self._drivers else engine
            self._readers[domain] = async_sessionmaker(alone, expire_on_commit=False)

    def engine(self, domain: str) -> AsyncEngine:
        return self._by_domain[domain]

    @property
    def engines(self) -> list[AsyncEngine]:
        """Every engine once (domains sharing a URL share one)."""
        return list(self._engines.values())

    @asynccontextmanager
    async def session(self, domain: str) -> AsyncIterator[AsyncSession]:
        async with self._sessions[domain]() as session:
            yield session

    @asynccontextmanager
    async def read_session(self, domain: str) -> AsyncIterator[AsyncSession]:
        """A session for one read statement, run outside any transaction block where the source allows."""
        async with self._readers[domain]() as session:
            yield session

    @asynccontextmanager
    async def write_session(self, domain: str) -> AsyncIterator[AsyncSession]:
        """A session for a write transaction: on SQLite it holds the write lock from its start."""
        async with self._writers[domain]() as session:
            yield session

    def ready(self, domain: str, statement: Any) -> Ready:
        """``statement`` compiled once for ``domain``'s source, to run with :meth:`value` as often as wanted."""
        return ready(self._by_domain[domain], statement)

    def kept(self, domain: str, build: Callable[..., Any], *args: Any) -> Ready:
        """The statement ``build(*args)`` makes (of fixed shape, its values ``bindparam``s given at run time
        by :meth:`Ready.bound`), compiled for ``domain``'s source on first use and kept: a statement run on
        every write or every event costs neither building nor compiling after the first."""
        key = (domain, build, args)
        found = self._kept.get(key)
        if found is None:
            found = self._kept[key] = self.ready(domain, build(*args))
        return found

    async def value(self, domain: str, statement: Ready) -> Any:
        """The single value of a one-row, one-column read: on PostgreSQL on the driver itself, with no
        transaction block; elsewhere on an engine connection."""
        driver = self._driver_by_domain.get(domain)
        if driver is None:
            return (await self._on_engine(domain, statement)).scalar_one()
        return await driver.value(statement.sql, statement.values)

    async def rows(self, domain: str, statement: Ready) -> Sequence[Mapping[str, Any]]:
        """The rows of a read, each a mapping of column name to value: on PostgreSQL on the driver
        itself, with no transaction block; elsewhere on an engine connection."""
        driver = self._driver_by_domain.get(domain)
        if driver is None:
            return cast(Sequence[Mapping[str, Any]], (await self._on_engine(domain, statement)).mappings().all())
        return await driver.rows(statement.sql, statement.values)

    async def _on_engine(self, domain: str, statement: Ready) -> Result[Any]:
        """``statement`` run on an engine connection (off PostgreSQL); an async connection's result is
        buffered, so it outlives the connection."""
        async with self._by_domain[domain].connect() as conn:
            result: Result[Any] = await conn.execute(statement.statement, dict(statement.params) or None)
            return result

    def driver(self, domain: str) -> DriverPool | None:
        """``domain``'s asyncpg connections, where its source is PostgreSQL."""
        return self._driver_by_domain.get(domain)

    async def dispose(self) -> None:
        for driver in self._drivers.values():
            await driver.close()
        for engine in self._engines.values():
            await engine.dispose()
