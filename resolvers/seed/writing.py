"""Small helpers the demo and synthetic writers share: bulk inserts, ids, sequences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

Row = dict[str, Any]


def table_of(model: type[DeclarativeBase]) -> Table:
    return model.metadata.tables[model.__tablename__]


async def insert_rows(session: AsyncSession, table: Table, rows: list[Row]) -> None:
    """One executemany of plain Core inserts (no ORM bookkeeping, no RETURNING)."""
    if rows:
        await session.execute(insert(table), rows)


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
