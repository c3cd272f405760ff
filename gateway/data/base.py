"""The engine's own declarative base: tokens, idempotency keys and the audit trail share its metadata."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class GatewayBase(DeclarativeBase):
    metadata = MetaData()
