"""Reads on the driver itself, for fixed statements compiled once: a JSON document's single value, or rows.

The compiled read path and the audit writer run few, large, fixed statements: on PostgreSQL they
go straight to asyncpg (a pool of its own, prepared statements kept per connection, no reset
round trip on release), so a request costs no ORM session, no transaction block and no
SQLAlchemy result machinery. Other dialects run the same statement on an engine connection.

    ready = databases.ready("population", select(...))   # compile once, keep with the plan
    value = await databases.value("population", ready)
    rows = await databases.rows("population", ready)      # mappings: row["column"]
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from sqlalchemy import any_, bindparam, exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

# Statements executed in the current context; tests and benchmarks read it to count SQL.
statement_log: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("statement_log", default=None)


def counted(sql: str) -> str:
    log = statement_log.get()
    if log is not None:
        log.append(sql)
    return sql


# A connection that died under a read (a restarted server, a dropped link): the read is retried once
# on a fresh one, instead of a ping on every checkout.
# A connection whose server went away while it was idle may be found so by the next statement in
# the middle of its protocol exchange (asyncpg's InternalClientError), not only before it.
DEAD_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)


@dataclass(frozen=True)
class Ready:
    """A statement compiled for one dialect: its SQL with positional parameters, and their values;
    or, off PostgreSQL, the statement itself. Parameters named when it was built with a ``bindparam``
    of no value (a link's parent keys, say) take theirs at run time, by :meth:`bound`."""

    sql: str
    values: tuple[Any, ...]
    statement: Any
    # PostgreSQL: each positional parameter's name and bind processor (None where it has none).
    names: tuple[str, ...] = ()
    processors: tuple[Callable[[Any], Any] | None, ...] = ()
    # Elsewhere: the values given by name, bound by SQLAlchemy as it executes the statement.
    params: Mapping[str, Any] = field(default_factory=dict)

    def bound(self, **given: Any) -> Ready:
        if not self.sql:
            return replace(self, params={**self.params, **given})
        values = list(self.values)
        for at, name in enumerate(self.names):
            if name in given:
                process = self.processors[at]
                value = given[name]
                values[at] = value if process is None or value is None else process(value)
        return replace(self, values=tuple(values))


def _page_sizes_written(select: Any) -> None:
    for clause in ("_limit_clause", "_offset_clause"):
        bind = getattr(select, clause)
        if isinstance(bind, BindParameter) and bind.value is not None and bind.callable is None:
            written = bind._clone()
            written.literal_execute = True
            setattr(select, clause, written)


def ready(engine: AsyncEngine, statement: Any) -> Ready:
    if engine.dialect.name != "postgresql":
        return Ready("", (), statement)
    # Page sizes known when the statement is built are written into its text. PostgreSQL plans a
    # prepared statement once for all its runs only where its cost does not hang on a parameter it
    # cannot see, and it guesses a LIMIT it cannot see at a tenth of the rows: with the size a
    # parameter, every run of a page was planned afresh (a third of its time in the database).
    statement = visitors.cloned_traverse(statement, {}, {"select": _page_sizes_written})
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    given = compiled.construct_params()
    processors: dict[str, Callable[[Any], Any]] = compiled._bind_processors
    names = tuple(compiled.positiontup or ())
    values = []
    for name in names:
        value = given[name]
        process = processors.get(name)
        values.append(value if process is None or value is None else process(value))
    return Ready(compiled.string, tuple(values), None, names, tuple(processors.get(name) for name in names))


async def _keep_state(connection: asyncpg.Connection) -> None:
    """On release, only a transaction left open (a cancelled task) is undone: these connections never
    SET, LISTEN or hold a session lock, so asyncpg's full reset would be a round trip for nothing."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


# The dialect's own connection options, under asyncpg's names or none at all.
_ASYNCPG_NAMES = {"prepared_statement_cache_size": "statement_cache_size"}
_DIALECT_ONLY = frozenset({"prepared_statement_name_func", "async_fallback"})
# Seconds an idle connection is kept open.
IDLE = 600.0


class DriverPool:
    """asyncpg connections for one PostgreSQL URL, opened on first use and kept open."""

    def __init__(self, engine: AsyncEngine, size: int, timeout: float) -> None:
        # Connected as the engine connects: its URL read by SQLAlchemy's own dialect, whose options
        # (say prepared_statement_cache_size=0 behind PgBouncer) asyncpg would take for server settings.
        _, given = engine.dialect.create_connect_args(engine.url)
        self._connect = {_ASYNCPG_NAMES.get(k, k): v for k, v in given.items() if k not in _DIALECT_ONLY}
        self._size, self._timeout = size, timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        **self._connect,
                        min_size=0,
                        max_size=self._size,
                        reset=_keep_state,
                        max_inactive_connection_lifetime=IDLE,
                    )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self._opened()
        try:
            # asyncio.timeout rather than acquire's own (wait_for: a task of its own per checkout).
            async with asyncio.timeout(self._timeout):
                conn = await pool.acquire()
        except TimeoutError:
            raise exc.TimeoutError("no driver connection came free in time") from None
        try:
            yield conn
        finally:
            await pool.release(conn)

    async def value(self, sql: str, values: Sequence[Any]) -> Any:
        return await self._read(lambda conn: conn.fetchval(counted(sql), *values))

    async def rows(self, sql: str, values: Sequence[Any]) -> list[asyncpg.Record]:
        return await self._read(lambda conn: conn.fetch(counted(sql), *values))  # type: ignore[no-any-return]

    async def _read(self, run: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
        for attempt in (1, 2):
            try:
                async with self.connection() as conn:
                    return await run(conn)
            except DEAD_CONNECTION:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# The one parameter a batched read takes its keys in (see ``among``).
KEYS = "gw_keys"


def among(column: Any, name: str, postgres: bool) -> Any:
    """``column`` is one of the values bound as ``name`` (a list, given by :meth:`Ready.bound`): one array
    parameter on PostgreSQL (one prepared statement whatever their number), an expanding ``IN`` elsewhere."""
    if postgres:
        return column == any_(bindparam(name, None, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, None, expanding=True))
