"""The notice domain's table: notices posted to a grid's board, with its own ``MetaData``."""

from __future__ import annotations

from sqlalchemy import Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class NoticeBase(DeclarativeBase):
    metadata = MetaData()
    __domain__ = "notice"


class Notice(NoticeBase):
    __tablename__ = "notice"
    __area__ = "grid_id"
    __sensitive__ = ("contact",)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(400))
    contact: Mapped[str] = mapped_column(String(20), default="", server_default="")
