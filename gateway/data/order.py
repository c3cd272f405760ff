"""Commit order: the one point where concurrent writes take turns.

Outbox rows and audit records are numbered when inserted and must become visible in that
order (a feed reading "after the last id" must never skip one; a chain must never fork). On
PostgreSQL both hold one transaction-scoped advisory lock from their insert to the commit, so
a write transaction takes turns once, not once per table it appends to. SQLite has a single
writer, which orders commits already.

A transaction holds the lock from the statement that takes it to its commit, so it takes it as
late as it can, and in one statement: what else must be done under the lock (a write's audit
record) rides on the statement that takes it (the outbox's insert) when there is one::

    commit_order_ride(session, append)   # the audit record, made as the transaction commits
    lock = commit_order_taker(session)   # the outbox's insert joins it: the append, or the bare lock
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

# Any number every appender agrees on: ASCII "audit", the trail's key from before the outbox shared it.
COMMIT_ORDER_KEY = 0x6175646974
_HELD = "gateway_commit_order_held"
_RIDER = "gateway_commit_order_rider"


def _sync(session: AsyncSession | Session) -> Session:
    # Asked from async code and from a session event alike: both see the sync session's transaction.
    return session.sync_session if isinstance(session, AsyncSession) else session


def commit_order_held(session: AsyncSession | Session) -> bool:
    """Whether ``session``'s running transaction holds the commit-order lock already."""
    sync = _sync(session)
    held = sync.info.get(_HELD)
    return held is not None and held is sync.get_transaction()


def commit_order_taken(session: AsyncSession | Session) -> None:
    """Note that ``session``'s transaction took the lock in a statement of its own making (the audit
    trail's append, which takes it itself; the outbox's insert, which joins it)."""
    sync = _sync(session)
    sync.info[_HELD] = sync.get_transaction()


def commit_order_ride(session: AsyncSession | Session, statement: Any) -> None:
    """Make ``statement`` (a SELECT that takes the lock itself, then writes under it) as ``session``'s
    transaction commits: inside the statement that takes the lock then (see :func:`commit_order_taker`),
    or, when none does, on its own just before the commit. Either way it is made exactly once."""
    sync = _sync(session)
    sync.info[_RIDER] = (sync.get_transaction(), statement)
    # Registered after the outbox's own listener (a transaction emits before it records its write), so
    # the outbox's insert takes the rider first; in any other order the rider goes alone, and the
    # outbox finds the lock held: one turn either way.
    event.listen(sync, "before_commit", _ride_alone, once=True)


def commit_order_taker(session: AsyncSession | Session) -> Any:
    """What a statement that takes the lock joins, as a CTE (evaluated once, before any row of the
    statement is made): one row, made by the statement riding on the lock, or by the bare lock."""
    rider = _rider(_sync(session))
    commit_order_taken(session)
    return commit_order_lock(rider)


def commit_order_lock(rider: Any = None) -> Any:
    """One row that takes the lock: made by ``rider`` (a statement that takes it itself), or by the bare lock."""
    if rider is None:
        return select(func.pg_advisory_xact_lock(COMMIT_ORDER_KEY).label("gw_locked"))
    # Counted, so that the joining statement makes each of its rows once whatever the rider returns.
    return select(func.count().label("gw_locked")).select_from(rider.subquery("gw_rider"))


def _rider(sync: Session) -> Any:
    given = sync.info.pop(_RIDER, None)
    if given is None or given[0] is not sync.get_transaction():
        return None  # a rider of a transaction rolled back since
    return given[1]


def _ride_alone(session: Session) -> None:
    rider = _rider(session)
    if rider is not None:
        session.execute(rider)
        commit_order_taken(session)
