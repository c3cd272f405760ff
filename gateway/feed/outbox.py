"""The outbox: every change writes its event in the same transaction as the change itself,
so a crash between commit and publish loses nothing; the feed reads events from here.

Each domain keeps its own outbox table in its own database (``<domain>_outbox``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data import hold_commit_order


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


async def emit(
    session: AsyncSession, outbox: Any, topic: str, type_name: str, row_id: int, grid_id: int | None, kind: str
) -> None:
    """Record one event inside the caller's transaction."""
    # Outbox ids come from a sequence at insert time; holding the commit-order lock until commit
    # makes them commit in id order, so a feed reading "after the last id" never skips one.
    await hold_commit_order(session)
    await session.execute(
        insert(outbox).values(
            topic=topic, type_name=type_name, row_id=row_id, grid_id=grid_id, kind=kind, created_at=datetime.now(UTC)
        )
    )
