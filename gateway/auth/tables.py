"""Issued tokens, kept in the database of ``GATEWAY_DB_URL``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data import GatewayBase


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
