"""Trusted documents, kept in the gateway's own database (``GATEWAY_DB_URL``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.data import GatewayBase


class TrustedDocument(GatewayBase):
    """A reviewed GraphQL document (one or more operations), named by the SHA-256 of its text."""

    __tablename__ = "gateway_document"
    __table_args__ = (Index("ix_gateway_document_client", "client"),)

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # The operations it holds, comma-separated ("" for one anonymous operation).
    operations: Mapped[str] = mapped_column(String(400), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
