"""Commit order: the one point where concurrent writes take turns.

Outbox rows and audit records are numbered when inserted and must become visible in that
order (a feed reading "after the last id" must never skip one; a chain must never fork). On
PostgreSQL both hold one transaction-scoped advisory lock from their insert to the commit, so
a write transaction takes turns once, not once per table it appends to. SQLite has a single
writer, which orders commits already.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Any number every appender agrees on: ASCII "audit", the trail's key from before the outbox shared it.
COMMIT_ORDER_KEY = 0x6175646974
_HELD = "gateway_commit_order_held"


def commit_order_held(session: AsyncSession) -> bool:
    """Whether ``session``'s running transaction holds the commit-order lock already."""
    held = session.info.get(_HELD)
    return held is not None and held is session.get_transaction()


def commit_order_taken(session: AsyncSession) -> None:
    """Note that ``session``'s transaction took the lock in a statement of its own making (the audit
    trail takes it and reads its head in one)."""
    session.info[_HELD] = session.get_transaction()


async def hold_commit_order(session: AsyncSession) -> bool:
    """Take the commit-order lock until ``session``'s transaction ends; False where none is needed."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return False
    # Held until the transaction ends: a second append in it (the outbox, then the audit) asks once.
    if not commit_order_held(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COMMIT_ORDER_KEY})
        commit_order_taken(session)
    return True
