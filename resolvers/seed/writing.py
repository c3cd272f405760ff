"""Small helpers the demo and synthetic writers share: bulk inserts, ids, sequences."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase

Row = dict[str, Any]
Writer = Callable[[AsyncSession, Table, list[Row]], Awaitable[None]]


def table_of(model: type[DeclarativeBase]) -> Table:
    return model.metadata.tables[model.__tablename__]


async def insert_rows(session: AsyncSession, table: Table, rows: list[Row]) -> None:
    """One executemany of plain Core inserts (no ORM bookkeeping, no RETURNING)."""
    if rows:
        await session.execute(insert(table), rows)


async def copy_rows(session: AsyncSession, table: Table, rows: list[Row]) -> None:
    """PostgreSQL's COPY for bulk loads (several times faster than inserts); elsewhere, inserts."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await insert_rows(session, table, rows)
        return
    columns = [column.name for column in table.columns if column.name in rows[0]]
    raw = await connection.get_raw_connection()
    records = [tuple(row[name] for name in columns) for row in rows]
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=records, columns=columns, schema_name=table.schema
    )


@asynccontextmanager
async def indexes_deferred(session: AsyncSession, tables: Iterable[Table]) -> AsyncIterator[None]:
    """On PostgreSQL, drop the secondary indexes of ``tables`` for a bulk load and build them
    again afterwards (once, rather than row by row); constraints and other databases are left be."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    names = [table.name for table in tables]
    found = await session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
            "AND tablename = ANY(:names) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ),
        {"names": names},
    )
    indexes = [(name, definition) for name, definition in found.all()]
    found = await session.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'u' AND c.connamespace = current_schema()::regnamespace "
            "AND c.conrelid::regclass::text = ANY(:names)"
        ),
        {"names": names},
    )
    constraints = [(table, name, definition) for table, name, definition in found.all()]
    for table, name, _ in constraints:
        await session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        await session.execute(text(f'DROP INDEX "{name}"'))
    await session.commit()
    try:
        yield
    finally:
        for _, definition in indexes:
            await session.execute(text(definition))
        for table, name, definition in constraints:
            await session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        await session.commit()
        await _vacuumed(session, names)


async def _vacuumed(session: AsyncSession, names: list[str]) -> None:
    """VACUUM (ANALYZE) the loaded tables, outside any transaction, as VACUUM must run. A vacuum and not
    an analysis alone: rows written by COPY carry no visibility-map bits and no hint bits, so until
    autovacuum came by every index-only scan of them read the heap too, and the first reads wrote
    their pages again (the city's first pages served at half the speed of the same pages later)."""
    bind = session.bind
    engine = bind if isinstance(bind, AsyncEngine) else bind.engine if bind is not None else None
    if engine is None:
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            await autocommit.execute(text(f'VACUUM (ANALYZE) "{name}"'))


async def has_rows(session: AsyncSession, table: Table) -> bool:
    return (await session.execute(select(table.c.id).limit(1))).first() is not None


async def max_id(session: AsyncSession, table: Table) -> int:
    return int((await session.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one())


async def reset_sequences(session: AsyncSession, tables: Iterable[Table]) -> None:
    """Move PostgreSQL id sequences past the largest id, since seed rows carry explicit ids.

    Without this the next ORM insert would draw id 1 and collide. Other databases hand out
    max(id) + 1 by themselves, so there is nothing to do.
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return
    preparer = connection.dialect.identifier_preparer
    for table in tables:
        name = preparer.format_table(table)
        await session.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, 'id'), coalesce(max(id), 0) + 1, false) FROM {name}"),
            {"table": name},
        )
