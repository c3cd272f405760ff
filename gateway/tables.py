"""The engine's own tables (issued tokens), kept in the database of ``GATEWAY_DB_URL``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class GatewayBase(DeclarativeBase):
    metadata = MetaData()


class IssuedToken(GatewayBase):
    """Every token ever issued, so that one can be listed and revoked at once."""

    __tablename__ = "gateway_token"
    __table_args__ = (Index("ix_gateway_token_principal", "principal_id"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(400), default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyRecord(GatewayBase):
    """A mutation request already seen: the key a client sent, what it asked, what it got."""

    __tablename__ = "gateway_idempotency"

    principal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
