"""Idempotency keys already seen, kept in the database of ``GATEWAY_DB_URL``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data import GatewayBase


class IdempotencyRecord(GatewayBase):
    """A mutation request already seen: the key a client sent, what it asked, what it got."""

    __tablename__ = "gateway_idempotency"

    principal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
