"""A write transaction of kept compiled statements: what a mutation run many times a second uses
instead of the ORM's unit of work, with the same guarantees as :func:`~gateway.write.transaction`.

On PostgreSQL it runs on a driver connection: each statement is compiled once (``Databases.kept``)
and prepared per connection; at the end, one statement inserts the transaction's events into the
outbox and, riding on the commit-order lock they take, the mutation's audit record naming the rows
written; then it commits and wakes the feed. Elsewhere the same statements run in the ORM session
of :func:`~gateway.write.transaction`, which records and emits as it always does::

    async with statements(ctx, "dispute") as writes:
        pk = await writes.value(ctx.databases.kept("dispute", insert_dispute).bound(**values))
        writes.wrote(Dispute, pk)
        writes.emit(DisputeOutbox, "dispute", "Dispute", pk, grid_id, "reported")
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import Integer, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import (
    DEAD_CONNECTION,
    Ready,
    commit_order_lock,
    counted,
    emit,
    event_row,
    outbox_insert,
    outbox_values,
)
from gateway.kernel import Context
from gateway.write.transactions import transaction


class Writes:
    """The statements of one write transaction, the rows they wrote and the events they make."""

    def __init__(self, ctx: Context, domain: str, conn: Any = None, session: AsyncSession | None = None) -> None:
        self._ctx, self._domain = ctx, domain
        self._conn: asyncpg.Connection | None = conn
        self._session = session
        self._rows: list[tuple[type[Any], int]] = []
        self._events: list[tuple[Any, dict[str, Any]]] = []

    async def value(self, statement: Ready) -> Any:
        """The first column of the first row ``statement`` returns (None when none)."""
        if self._conn is not None:
            return await self._conn.fetchval(counted(statement.sql), *statement.values)
        assert self._session is not None
        # On the session's connection: Core's execution, not the ORM's bulk insert of a dict of values.
        connection = await self._session.connection()
        return (await connection.execute(statement.statement, dict(statement.params))).scalar()

    async def insert(self, model: type[Any], values: Mapping[str, Any]) -> int:
        """Insert one row of ``model``; its primary key. The row is named in the write's audit record."""
        made = self._ctx.databases.kept(self._domain, _inserting, model, tuple(values))
        pk = int(await self.value(made.bound(**{f"gw_{name}": value for name, value in values.items()})))
        self.wrote(model, pk)
        return pk

    async def update(self, model: type[Any], pk: int, values: Mapping[str, Any]) -> None:
        """Set ``values`` on row ``pk`` of ``model`` (named in the write's audit record)."""
        change = self._ctx.databases.kept(self._domain, _updating, model, tuple(values))
        await self.value(change.bound(gw_pk=pk, **{f"gw_{name}": value for name, value in values.items()}))
        self.wrote(model, pk)

    def wrote(self, model: type[Any], pk: int) -> None:
        """Name row ``pk`` of ``model`` in the mutation's audit record of this write."""
        self._rows.append((model, pk))
        if self._session is not None and self._ctx.audit is not None:
            self._ctx.audit.wrote(self._session, model, pk)

    async def emit(self, outbox: Any, topic: str, type_name: str, row_id: int, grid_id: int | None, kind: str) -> None:
        """Record one event, inserted into ``outbox`` as the transaction commits."""
        if self._session is not None:
            await emit(self._session, outbox, topic, type_name, row_id, grid_id, kind)
        else:
            self._events.append((outbox, event_row(topic, type_name, row_id, grid_id, kind)))

    async def finish(self) -> None:
        """On the driver: the events and the audit record, in the statement that takes the commit-order lock."""
        if self._conn is None:
            return
        ctx, domain, audit = self._ctx, self._domain, self._ctx.audit
        entry = audit.write_entry(self._rows) if audit is not None else None
        if entry is not None and audit is not None and audit.kept_apart(domain):
            await audit.append(entry)
            entry = None
        outboxes = {outbox for outbox, _ in self._events}
        if len(outboxes) > 1:
            raise ValueError("a write transaction's events go to its own domain's outbox")
        outbox = next(iter(outboxes), None)
        if outbox is None and entry is None:
            return
        rows = [row for _, row in self._events]
        values = outbox_values(rows)
        rider = None
        if entry is not None and audit is not None:
            rider = audit.rider
            values.update(audit.rider_values(entry))
        last = ctx.databases.kept(domain, _last_statement, outbox, len(rows), rider).bound(**values)
        await self._conn.execute(counted(last.sql), *last.values)


def _inserting(model: type[Any], names: tuple[str, ...]) -> Any:
    table = model.__table__
    given = {name: bindparam(f"gw_{name}", None, table.c[name].type) for name in names}
    return insert(table).values(given).returning(table.c.id)


def _updating(model: type[Any], names: tuple[str, ...]) -> Any:
    table = model.__table__
    given = {name: bindparam(f"gw_{name}", None, table.c[name].type) for name in names}
    return update(table).where(table.c.id == bindparam("gw_pk", None, Integer)).values(given).returning(table.c.id)


def _last_statement(outbox: Any, count: int, rider: Any) -> Any:
    """The statement that takes the commit-order lock: the events' insert joined to the audit record's
    append (``rider``) or to the bare lock; or the append alone when there are no events."""
    if outbox is None:
        return rider
    return outbox_insert(outbox, count, commit_order_lock(rider))


@asynccontextmanager
async def statements(ctx: Context, domain: str) -> AsyncIterator[Writes]:
    """One write transaction in ``domain``'s database, run as kept statements (see the module)."""
    driver = ctx.databases.driver(domain)
    if driver is None:
        async with transaction(ctx, domain) as session:
            yield Writes(ctx, domain, session=session)
        return
    for attempt in (1, 2):
        async with driver.connection() as conn:
            began = conn.transaction()
            try:
                await began.start()
            except DEAD_CONNECTION:
                # Found dead before anything was written: closed, and the write begun on another.
                await conn.close()
                if attempt == 2:
                    raise
                continue
            try:
                writes = Writes(ctx, domain, conn=conn)
                yield writes
                await writes.finish()
            except BaseException:
                with contextlib.suppress(Exception):
                    await began.rollback()
                raise
            await began.commit()
            break
    # Rows read before the write may have changed: later fields of this request read afresh.
    ctx.loaders.clear()
    if ctx.feed is not None:
        await ctx.feed.committed(domain)
