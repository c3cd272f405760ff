"""Rows per table, kept exact by the database itself: what a count over the whole city reads.

``count(*)`` over a city's 13.6 million residents is a scan of them all, however it is indexed, and a
sum of counts kept per grid is still a sum of 21,000 rows. A table that a reader may count across the
whole city declares a counts table of its domain (``__counted_by__``), which keeps one row per table:
its rows. Triggers add and take away one per row inserted or deleted, in the transaction that does
it, so the count is exact whenever the rows are; a count whose scope is every row reads that one row.

One row that every insert changes would make writers of the table wait for each other from their
insert to their commit. On PostgreSQL each row only adds to a number kept for its transaction, and a
deferred trigger adds that number to the count once, at commit, after taking the commit-order lock
(:mod:`gateway.data.order`): a write that emits events holds it already by then, so the count adds no
second point where writes take turns, and one that emits none takes its turn there for the moment of
its commit — one change of the count row, however many rows it wrote. SQLite has a single writer; its
triggers run at once.

    PopulationRowCount = row_counts_model(PopulationBase, "population")

    class Resident(PopulationBase):
        __counted_by__ = PopulationRowCount

The triggers come with the domain's migration (:func:`counting_triggers`), or with ``create_all``. A
bulk load pauses them (:func:`counting_paused`) and counts afresh when it ends; one killed meanwhile
is mended as the gateway starts (:func:`counting_restored`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, String, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data.order import COMMIT_ORDER_KEY

COUNTED_BY = "__counted_by__"


def row_counts_model(base: Any, domain: str) -> Any:
    """Declare the counts table of one domain on that domain's declarative base."""

    class RowCount(base):  # type: ignore[misc]
        __tablename__ = f"{domain}_row_count"
        table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
        n: Mapped[int] = mapped_column(BigInteger)

    RowCount.__name__ = RowCount.__qualname__ = f"{domain.title()}RowCount"

    def triggers(metadata: Any, connection: Any, **_: Any) -> None:
        # Tables made from the models (not by migrations, which make the same triggers) count too.
        for mapper in base.registry.mappers:
            model = mapper.class_
            if counts_of(model) is RowCount:
                for statement in counting_triggers(
                    connection.dialect.name, RowCount.__tablename__, model.__tablename__
                ):
                    connection.execute(text(statement))

    event.listen(base.metadata, "after_create", triggers)
    return RowCount


def counts_of(model: type[Any]) -> Any | None:
    """The counts table keeping ``model``'s rows, if it has one."""
    return getattr(model, COUNTED_BY, None)


def city_count(model: type[Any]) -> Select[Any] | None:
    """All of ``model``'s rows, read from its counts table; None when it keeps none."""
    counts = counts_of(model)
    if counts is None:
        return None
    kept = select(counts.n).where(counts.table_name == model.__tablename__).scalar_subquery()
    return select(func.coalesce(kept, 0))


def _pending(table: str) -> str:
    # The transaction's rows of ``table`` not yet counted: a setting local to the transaction (and to
    # each savepoint, undone with it), so it never outlives the rows it counts.
    return f"gateway.uncounted_{table}"


def counting_triggers(dialect: str, counts: str, table: str) -> list[str]:
    """DDL: triggers keeping the number of ``table``'s rows in ``counts``, for ``dialect``.

    PostgreSQL: each row inserted or deleted adds to a number kept for its transaction (no lock, no
    write); the deferred trigger of the first row to fire at commit adds it to the count, under the
    commit-order lock, and the rest find nothing left to add. Changed once per row, the count row
    would take a new version per row that the next change walks past (those of a transaction still
    open cannot be pruned): a commit as slow as the square of its rows, every writer waiting on it."""
    # Row triggers on one event fire in the order of their names: the row is added before it is counted
    # (when the deferred trigger is made immediate by SET CONSTRAINTS, the two fire together).
    name, adding = f"{table}_counted", f"{table}_count_pending"
    pending = _pending(table)
    if dialect == "postgresql":
        uncounted = f"coalesce(nullif(current_setting('{pending}', true), ''), '0')::bigint"
        return [
            f"""CREATE FUNCTION {adding}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM set_config('{pending}',
                    ({uncounted} + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END)::text, true);
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {adding} AFTER INSERT OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {adding}()""",
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                uncounted bigint := {uncounted};
            BEGIN
                IF uncounted <> 0 THEN
                    PERFORM pg_advisory_xact_lock({COMMIT_ORDER_KEY});
                    INSERT INTO {counts} AS c (table_name, n) VALUES ('{table}', uncounted)
                    ON CONFLICT (table_name) DO UPDATE SET n = c.n + excluded.n;
                    PERFORM set_config('{pending}', '0', true);
                END IF;
                RETURN NULL;
            END $$""",
            f"""CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR DELETE ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {name}()""",
            f"""CREATE FUNCTION {name}_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {counts} SET n = 0 WHERE table_name = '{table}';
                RETURN NULL;
            END $$""",
            f"""CREATE TRIGGER {name}_emptied AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}_emptied()""",
        ]

    def change(by: int) -> str:
        return f"""INSERT INTO {counts} (table_name, n) VALUES ('{table}', {by})
            ON CONFLICT (table_name) DO UPDATE SET n = n + {by};"""

    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {change(1)} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {change(-1)} END",
    ]


def counting_triggers_dropped(dialect: str, table: str) -> list[str]:
    name, adding = f"{table}_counted", f"{table}_count_pending"
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP TRIGGER IF EXISTS {adding} ON {table}",
            f"DROP TRIGGER IF EXISTS {name}_emptied ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
            f"DROP FUNCTION IF EXISTS {adding}()",
            f"DROP FUNCTION IF EXISTS {name}_emptied()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete")]


def recount(counts: str, table: str) -> list[str]:
    """Statements counting ``table``'s rows afresh (after a bulk load made with the triggers off)."""
    return [
        f"DELETE FROM {counts} WHERE table_name = '{table}'",
        f"INSERT INTO {counts} (table_name, n) SELECT '{table}', count(*) FROM {table}",
    ]


@dataclass(frozen=True)
class _Counted:
    counts: str
    table: str

    async def resume(self, session: AsyncSession) -> None:
        """The table's count trigger on again, and its rows counted afresh."""
        for trigger in _row_triggers(self.table):
            await session.execute(text(f"ALTER TABLE {self.table} ENABLE TRIGGER {trigger}"))
        for statement in recount(self.counts, self.table):
            await session.execute(text(statement))


def _row_triggers(table: str) -> tuple[str, ...]:
    """PostgreSQL: the triggers counting ``table``'s rows one by one, paused for a bulk load."""
    return (f"{table}_counted", f"{table}_count_pending")


def _counted(models: Iterable[type[Any]]) -> list[_Counted]:
    found = []
    for model in models:
        counts = counts_of(model)
        if counts is not None:
            found.append(_Counted(str(counts.__tablename__), str(model.__tablename__)))
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
            text(
                "SELECT bool_or(tgenabled = 'D') FROM pg_trigger"
                " WHERE tgname = ANY(:names) AND tgrelid = to_regclass(:table)"
            ),
            {"names": list(_row_triggers(counted.table)), "table": counted.table},
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
        for trigger in _row_triggers(each.table):
            await session.execute(text(f"ALTER TABLE {each.table} DISABLE TRIGGER {trigger}"))
    await session.commit()
    try:
        yield
    finally:
        for each in counted:
            await each.resume(session)
        await session.commit()
