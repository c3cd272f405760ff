"""Issued tokens, kept in the database of ``GATEWAY_DB_URL``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String
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


class RevocationCount(GatewayBase):
    """How many revocations were ever made: one row, counted up in each revocation's transaction, so
    that a worker holding live tokens in memory learns with one small read that it must drop them."""

    __tablename__ = "gateway_revocation"
    __table_args__ = (CheckConstraint("id = 1", name="ck_gateway_revocation_one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
