"""Rows per grid, kept exact by the database itself: what a count over the whole city reads.

``count(*)`` over a city's 13.6 million residents is a scan of them all, however it is indexed.
A table that a reader may count across the whole city declares a counts table of its domain
(``__counted_by__``); triggers on it add and take away one per row inserted, deleted or moved to
another grid, in the transaction that does it, so the counts are exact whenever the rows are.
A count whose scope is every row then sums one row per grid instead.

    PopulationGridCount = grid_counts_model(PopulationBase, "population")

    class Resident(PopulationBase):
        __area__ = "grid_id"
        __counted_by__ = PopulationGridCount

The triggers come with the domain's migration (:func:`counting_triggers`), or with ``create_all``. A
bulk load pauses them (:func:`counting_paused`) and counts afresh when it ends; one killed meanwhile
is mended as the gateway starts (:func:`counting_restored`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, String, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

COUNTED_BY = "__counted_by__"
# Rows with no grid are counted under this key (no grid has id 0).
NO_GRID = 0


def grid_counts_model(base: Any, domain: str) -> Any:
    """Declare the counts table of one domain on that domain's declarative base."""

    class GridCount(base):  # type: ignore[misc]
        __tablename__ = f"{domain}_grid_count"
        table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
        grid_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
        n: Mapped[int] = mapped_column(BigInteger)

    GridCount.__name__ = GridCount.__qualname__ = f"{domain.title()}GridCount"

    def triggers(metadata: Any, connection: Any, **_: Any) -> None:
        # Tables made from the models (not by migrations, which make the same triggers) count too.
        for mapper in base.registry.mappers:
            model = mapper.class_
            if counts_of(model) is GridCount:
                for statement in counting_triggers(
                    connection.dialect.name, GridCount.__tablename__, model.__tablename__, model.__area__
                ):
                    connection.execute(text(statement))

    event.listen(base.metadata, "after_create", triggers)
    return GridCount


def counts_of(model: type[Any]) -> Any | None:
    """The counts table keeping ``model``'s rows per grid, if it has one."""
    return getattr(model, COUNTED_BY, None)


def city_count(model: type[Any]) -> Select[Any] | None:
    """All of ``model``'s rows, counted from its counts table; None when it keeps none."""
    counts = counts_of(model)
    if counts is None:
        return None
    return select(func.coalesce(func.sum(counts.n), 0)).where(counts.table_name == model.__tablename__)


def counting_triggers(dialect: str, counts: str, table: str, area: str) -> list[str]:
    """DDL: triggers keeping ``table``'s rows per ``area`` column in ``counts``, for ``dialect``."""
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            counting_function(counts, table, area),
            f"""CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF {area} ON {table}
            FOR EACH ROW EXECUTE FUNCTION {name}()""",
            f"""CREATE FUNCTION {name}_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM {counts} WHERE table_name = '{table}';
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {name}_emptied AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}_emptied()""",
        ]
    add = f"""INSERT INTO {counts} (table_name, grid_key, n) VALUES ('{table}', coalesce(NEW.{area}, {NO_GRID}), 1)
            ON CONFLICT (table_name, grid_key) DO UPDATE SET n = n + 1;"""
    take = f"""UPDATE {counts} SET n = n - 1
            WHERE table_name = '{table}' AND grid_key = coalesce(OLD.{area}, {NO_GRID});"""
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {take} END",
        f"""CREATE TRIGGER {name}_move AFTER UPDATE OF {area} ON {table}
        WHEN NEW.{area} IS NOT OLD.{area} BEGIN {take} {add} END""",
    ]


def counting_function(counts: str, table: str, area: str, replace: bool = False) -> str:
    """PostgreSQL: the function of ``table``'s count trigger. A move takes the two grids' rows in the
    order of their keys, whichever way it goes: two moves in opposite directions at once would otherwise
    each hold one row and wait for the other's (a deadlock, one of them aborted)."""
    add = f"""INSERT INTO {counts} AS c (table_name, grid_key, n)
                        VALUES ('{table}', coalesce(NEW.{area}, {NO_GRID}), 1)
                        ON CONFLICT (table_name, grid_key) DO UPDATE SET n = c.n + 1;"""
    take = f"""UPDATE {counts} SET n = n - 1
                        WHERE table_name = '{table}' AND grid_key = coalesce(OLD.{area}, {NO_GRID});"""
    create = "CREATE OR REPLACE" if replace else "CREATE"
    return f"""{create} FUNCTION {table}_counted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.{area} IS NOT DISTINCT FROM OLD.{area} THEN
                    RETURN NULL;
                END IF;
                IF TG_OP = 'INSERT' THEN
                    {add}
                ELSIF TG_OP = 'DELETE' THEN
                    {take}
                ELSIF coalesce(OLD.{area}, {NO_GRID}) < coalesce(NEW.{area}, {NO_GRID}) THEN
                    {take}
                    {add}
                ELSE
                    {add}
                    {take}
                END IF;
                RETURN NULL;
            END $$"""


def counting_triggers_dropped(dialect: str, table: str) -> list[str]:
    name = f"{table}_counted"
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_emptied ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
            f"DROP FUNCTION IF EXISTS {name}_emptied()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete", "move")]


def recount(counts: str, table: str, area: str) -> list[str]:
    """Statements counting ``table``'s rows afresh (after a bulk load made with the triggers off)."""
    return [
        f"DELETE FROM {counts} WHERE table_name = '{table}'",
        f"""INSERT INTO {counts} (table_name, grid_key, n)
        SELECT '{table}', coalesce({area}, {NO_GRID}), count(*) FROM {table} GROUP BY coalesce({area}, {NO_GRID})""",
    ]


@dataclass(frozen=True)
class _Counted:
    counts: str
    table: str
    area: str

    async def resume(self, session: AsyncSession) -> None:
        """The table's count trigger on again, and its rows counted afresh."""
        await session.execute(text(f"ALTER TABLE {self.table} ENABLE TRIGGER {self.table}_counted"))
        for statement in recount(self.counts, self.table, self.area):
            await session.execute(text(statement))


def _counted(models: Iterable[type[Any]]) -> list[_Counted]:
    found = []
    for model in models:
        counts = counts_of(model)
        if counts is not None:
            found.append(_Counted(str(counts.__tablename__), str(model.__tablename__), str(model.__area__)))
    return found


async def _postgres(session: AsyncSession) -> bool:
    return bool((await session.connection()).dialect.name == "postgresql")


async def counting_restored(session: AsyncSession, models: Iterable[type[Any]]) -> list[str]:
    """Count triggers a bulk load turned off and never on again (it was killed, or lost its connection,
    before :func:`counting_paused` could end): turned on again and their tables counted afresh
    (PostgreSQL; the gateway does this as it starts). Returns the tables so restored."""
    if not await _postgres(session):
        return []
    restored = []
    for counted in _counted(models):
        found = await session.execute(
            text("SELECT tgenabled = 'D' FROM pg_trigger WHERE tgname = :name AND tgrelid = to_regclass(:table)"),
            {"name": f"{counted.table}_counted", "table": counted.table},
        )
        if found.scalar():
            await counted.resume(session)
            restored.append(counted.table)
    await session.commit()
    return restored


@asynccontextmanager
async def counting_paused(session: AsyncSession, models: Iterable[type[Any]]) -> AsyncIterator[None]:
    """A bulk load of ``models`` (PostgreSQL): their count triggers off while it runs, one row at a time
    being the slowest way to count millions, and their rows counted afresh once it is done. Offline
    only: a write made meanwhile by anyone else would not be counted."""
    counted = _counted(models)
    if not counted or not await _postgres(session):
        yield
        return
    for each in counted:
        await session.execute(text(f"ALTER TABLE {each.table} DISABLE TRIGGER {each.table}_counted"))
    await session.commit()
    try:
        yield
    finally:
        for each in counted:
            await each.resume(session)
        await session.commit()
