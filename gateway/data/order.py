"""Commit order: the one point where concurrent writes take turns.

Outbox rows and audit records are numbered when inserted and must become visible in that
order (a feed reading "after the last id" must never skip one; a chain must never fork). On
PostgreSQL both hold one transaction-scoped advisory lock from their insert to the commit, so
a write transaction takes turns once, not once per table it appends to. SQLite has a single
writer, which orders commits already.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

# Any number every appender agrees on: ASCII "audit", the trail's key from before the outbox shared it.
COMMIT_ORDER_KEY = 0x6175646974
_HELD = "gateway_commit_order_held"


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
    trail takes it and reads its head in one; the outbox with its insert)."""
    sync = _sync(session)
    sync.info[_HELD] = sync.get_transaction()
