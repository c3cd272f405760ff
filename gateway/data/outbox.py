"""The outbox: every change writes its event in the same transaction as the change itself,
so a crash between commit and publish loses nothing; the feed reads events from here.

Each domain keeps its own outbox table in its own database (``<domain>_outbox``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, bindparam, event, insert, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.data.order import commit_order_held, commit_order_taker


def outbox_model(base: Any, domain: str) -> Any:
    """Declare the outbox table of one domain on that domain's declarative base."""

    class Outbox(base):  # type: ignore[misc]
        __tablename__ = f"{domain}_outbox"
        __table_args__ = (Index(f"ix_{domain}_outbox_topic", "topic", "id"),)
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        topic: Mapped[str] = mapped_column(String(40))
        type_name: Mapped[str] = mapped_column(String(40))
        row_id: Mapped[int] = mapped_column(Integer)
        grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
        kind: Mapped[str] = mapped_column(String(40))
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    Outbox.__name__ = Outbox.__qualname__ = f"{domain.title()}Outbox"
    return Outbox


_PENDING = "gateway_outbox_pending"


async def emit(
    session: AsyncSession, outbox: Any, topic: str, type_name: str, row_id: int, grid_id: int | None, kind: str
) -> None:
    """Record one event inside the caller's transaction: inserted when it commits."""
    pending: list[tuple[Any, dict[str, Any]]] | None = session.info.get(_PENDING)
    if not pending:
        pending = session.info[_PENDING] = []
        event.listen(session.sync_session, "before_commit", _insert_pending, once=True)
        event.listen(session.sync_session, "after_rollback", _drop_pending, once=True)
    pending.append((outbox, event_row(topic, type_name, row_id, grid_id, kind)))


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _insert_pending(session: Session) -> None:
    """The transaction's events, inserted as it commits. Outbox ids come from a sequence at insert
    time; the commit-order lock, held from this insert until the commit (PostgreSQL), makes them
    commit in id order, so a feed reading "after the last id" never skips one. Taken this late, the
    lock covers only the last statement of a write and its commit, not the whole of it."""
    pending: list[tuple[Any, dict[str, Any]]] = session.info.pop(_PENDING, [])
    by_table: dict[Any, list[dict[str, Any]]] = {}
    for outbox, event_row in pending:
        by_table.setdefault(outbox, []).append(event_row)
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    for outbox, rows in by_table.items():
        if postgres and not commit_order_held(session):
            # The lock and the insert in one round trip: no row is made before the lock's row is.
            # A write's audit record rides on the lock (gateway.audit.trail), so the write holds the
            # lock for this statement and its commit.
            session.execute(outbox_insert(outbox, len(rows), commit_order_taker(session), rows))
        else:
            session.execute(insert(outbox).values(rows))


def event_row(topic: str, type_name: str, row_id: int, grid_id: int | None, kind: str) -> dict[str, Any]:
    """The outbox row of one event, as :func:`outbox_values` takes it."""
    return {
        "topic": topic,
        "type_name": type_name,
        "row_id": row_id,
        "grid_id": grid_id,
        "kind": kind,
        "created_at": datetime.now(UTC),
    }


EVENT_COLUMNS = ("topic", "type_name", "row_id", "grid_id", "kind", "created_at")


def outbox_insert(outbox: Any, count: int, lock: Any, rows: list[dict[str, Any]] | None = None) -> Any:
    """The insert of ``count`` events into ``outbox`` joined to ``lock`` (one row that takes the
    commit-order lock: see gateway.data.order), as a CTE made once before the insert numbers any row.
    Its values are named parameters, given with the statement (``rows``) or when it runs
    (:func:`outbox_values`): its SQL is the same for any events, so it is compiled once per number
    of events (a VALUES list of literal data would be compiled each time)."""
    table = outbox.__table__
    given_values = outbox_values(rows) if rows is not None else {}
    selects = [
        select(
            *(
                bindparam(key, given_values.get(key), table.c[name].type).label(name)
                for name in EVENT_COLUMNS
                for key in [f"gw_{n}_{name}"]
            )
        )
        for n in range(count)
    ]
    given = (selects[0] if count == 1 else union_all(*selects)).subquery("gw_events")
    taken = lock.cte("gw_lock")
    return insert(outbox).from_select(list(EVENT_COLUMNS), select(*given.c).select_from(given.join(taken, true())))


def outbox_values(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of :func:`outbox_insert` for ``rows`` (made by :func:`event_row`)."""
    return {f"gw_{n}_{name}": row[name] for n, row in enumerate(rows) for name in EVENT_COLUMNS}
